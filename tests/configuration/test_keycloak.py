"""Keycloak's own representation in a configuration file: the `identityProviders` entries of real
realm exports (tests/data/keycloak/, sources in its README), each with its mappers from the
realm's `identityProviderMappers`, plan and apply as they are, and export back in the canonical
spelling, which then plans as no change."""

import json
from pathlib import Path

import pytest
import yaml

from providers.models import IdentityProvider, IdentityProviderMapper

from .helpers import apply, exported, plan, workspace

pytestmark = pytest.mark.django_db
DATA = Path(__file__).parent.parent / "data" / "keycloak"


def realm_file(name: str) -> str:
    realm = json.loads((DATA / name).read_text())
    entries = []
    for entry in realm["identityProviders"]:
        mappers = [
            {key: value for key, value in mapper.items() if key != "id"}
            for mapper in realm["identityProviderMappers"]
            if mapper["identityProviderAlias"] == entry["alias"]
        ]
        entries.append({**entry, "mappers": mappers})
    return yaml.safe_dump({"version": 1, "identityProviders": entries}, sort_keys=False)


@pytest.mark.parametrize("name", ["tractusx-cx-central-consortia-dev.json", "tractusx-cx-central.json"])
def test_a_realm_exports_identity_providers_apply_as_they_are(name):
    acme = workspace("acme")
    text = realm_file(name)
    realm = json.loads((DATA / name).read_text())
    result = plan(acme, text)
    assert result.errors == [], [str(error) for error in result.errors]
    assert result.counts()["create"] == len(realm["identityProviders"])
    apply(acme, text)
    aliases = sorted(entry["alias"] for entry in realm["identityProviders"])
    stored = IdentityProvider.objects.filter(provider__workspace=acme)
    assert sorted(stored.values_list("provider__provider_id", flat=True)) == aliases
    assert IdentityProviderMapper.objects.filter(identity__provider__workspace=acme).count() == len(
        realm["identityProviderMappers"]
    )
    assert plan(acme, text).changes == []  # the Keycloak spelling, again: nothing to do
    assert plan(acme, exported(acme)).changes == []  # the canonical export of it: the same state


def test_a_realm_exports_secrets_are_refused_as_written():
    """Keycloak's admin UI test export holds its client secrets written out (`foo`, `asdf`), and
    placeholder URLs: each is an error at its path, and no error quotes a secret."""
    acme = workspace("acme")
    refused = plan(acme, realm_file("keycloak-admin-ui-kcexport-master.json"))
    messages = [str(error) for error in refused.errors]
    for index in (0, 1):
        assert (
            f"identityProviders[{index}].config.clientSecret: Secrets are not written in the file: use "
            "`secretRef: {env: NAME}` or `{file: path}`."
        ) in messages
    assert not any("foo" in message or "asdf" in message for message in messages)
    assert not IdentityProvider.objects.filter(provider__workspace=acme).exists()
