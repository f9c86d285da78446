import pytest

from tests.fakes.dns_server import FakeDnsServer


@pytest.fixture
def fake_dns(settings):
    """A fake DNS server on 127.0.0.1 that domain-verification lookups are pointed at."""
    with FakeDnsServer() as server:
        settings.IDP_DNS_NAMESERVERS = [server.address]
        settings.IDP_DNS_TIMEOUT = 1.0
        yield server
