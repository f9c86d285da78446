"""Fixtures shared by the provider tests in this folder."""

import pytest
from cryptography import x509

from tests.certificates import self_signed


@pytest.fixture(scope="session")
def signing_certificate() -> x509.Certificate:
    """A self-signed RSA 2048 certificate, as an IdP would publish for signing its assertions."""
    return self_signed("idp.acme.test signing", days=365)[0]
