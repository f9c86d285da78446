"""Real identity providers on 127.0.0.1 for the sign-in tests: npm oidc-provider (`oidc/server.mjs`,
driven by `oidc_provider.py`); the SAML IdP joins with SAML sign-in."""
