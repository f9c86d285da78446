"""Helpers of the canary-secret proofs (tests/test_canary*.py, tests/test_identity_canary.py): the search
for leaks and the flows that store, rotate and send the canary secrets."""
