import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from providers.identity.domains import DnsLookupError, txt_records


def test_txt_records_returns_each_record(fake_dns):
    fake_dns.records["_registry.example.com"] = ["registry-verification=abc123", "v=spf1 -all"]

    assert sorted(txt_records("_registry.example.com")) == ["registry-verification=abc123", "v=spf1 -all"]


def test_txt_records_matches_names_case_insensitively_with_or_without_trailing_dot(fake_dns):
    fake_dns.records["Example.COM."] = ["token=1"]

    assert txt_records("example.com") == ["token=1"]
    assert txt_records("EXAMPLE.com.") == ["token=1"]


def test_txt_records_joins_the_strings_of_one_record(fake_dns):
    fake_dns.records["multi.example.com"] = [("registry-verification=", "part-two", "-part-three")]

    assert txt_records("multi.example.com") == ["registry-verification=part-two-part-three"]


def test_txt_records_joins_a_long_value_split_into_255_byte_strings(fake_dns):
    value = "k=" + "x" * 600
    fake_dns.records["long.example.com"] = [value]

    assert txt_records("long.example.com") == [value]


def test_txt_records_decodes_invalid_utf8_without_failing(fake_dns):
    fake_dns.records["odd.example.com"] = [(b"caf\xe9", "-ok")]

    assert txt_records("odd.example.com") == ["caf\ufffd-ok"]


def test_txt_records_for_a_missing_name_is_empty(fake_dns):
    assert txt_records("nowhere.example.com") == []
    assert fake_dns.queries == ["nowhere.example.com"]


def test_txt_records_for_a_name_without_txt_records_is_empty(fake_dns):
    fake_dns.records["empty.example.com"] = []

    assert txt_records("empty.example.com") == []


def test_txt_records_timeout_raises_dns_lookup_error_quickly(fake_dns):
    fake_dns.timeouts.add("slow.example.com")

    started = time.monotonic()
    with pytest.raises(DnsLookupError) as excinfo:
        txt_records("slow.example.com")

    assert time.monotonic() - started < 2.0
    assert str(excinfo.value).startswith("DNS lookup for slow.example.com failed: ")
    assert "127.0.0.1" not in str(excinfo.value)


def test_txt_records_server_failure_raises_dns_lookup_error(fake_dns):
    fake_dns.failures.add("broken.example.com")

    with pytest.raises(DnsLookupError) as excinfo:
        txt_records("broken.example.com")

    assert str(excinfo.value).startswith("DNS lookup for broken.example.com failed: ")
    assert "127.0.0.1" not in str(excinfo.value)


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "exa mple.com",
        "example..com",
        "-example.com",
        "example-.com",
        "a" * 64 + ".com",
        ".".join(["a" * 60] * 5),
        "127.0.0.1",
        "example.com/path",
        "https://example.com",
        "exa\x00mple.com",
    ],
)
def test_txt_records_refuses_names_that_are_not_host_names(fake_dns, name):
    with pytest.raises(ValueError):
        txt_records(name)

    assert fake_dns.queries == []


def test_txt_records_accepts_an_internationalised_name(fake_dns):
    fake_dns.records["xn--bcher-kva.example"] = ["token=idn"]

    assert txt_records("bücher.example") == ["token=idn"]


def test_txt_records_refuses_a_name_server_setting_that_is_not_an_ip_address(settings):
    settings.IDP_DNS_NAMESERVERS = ["ns1.example.com:53"]

    with pytest.raises(ImproperlyConfigured):
        txt_records("example.com")
