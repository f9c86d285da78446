"""Key rotation on PostgreSQL outside a transaction: batches are pipelined (a forked writer
process with its own connection writes batch N while batch N+1 is re-encrypted). The outcome must
be exactly the sequential one."""

import io
import json
import multiprocessing

import pytest
from django.core.management import call_command
from django.db import connection

from providers import keys
from providers.models import Credential
from tests.factories import ProviderFactory
from tests.providers.test_keys import _clear_field_caches

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the pipeline runs on PostgreSQL only"),
]


@pytest.fixture
def keys_setting(settings):
    def use(*fernet_keys: str) -> None:
        settings.FERNET_KEYS = list(fernet_keys)
        _clear_field_caches()

    yield use
    _clear_field_caches()


def test_pipelined_rotation_rotates_everything_and_reports_failures(keys_setting):
    keys_setting("old-key")
    for n in range(9):
        ProviderFactory(provider_id=f"gh-{n}", credential__content={"accessToken": f"token-{n}"})
    keys_setting("lost-key")
    ProviderFactory(provider_id="gh-lost", credential__content={"accessToken": "unreadable"})
    keys_setting("new-key", "old-key")
    field = Credential._meta.get_field("secret")

    batches = keys.iter_batches(Credential, field, batch_size=2)
    first = next(batches)
    writer = [child for child in multiprocessing.active_children() if child.name == "rotate-keys-writer"]
    rest = list(batches)

    assert writer, "outside a transaction on PostgreSQL the writes run in a process of their own"
    results = [first, *rest]
    assert sum(r.scanned for r in results) == 10
    assert sum(r.rotated for r in results) == 9
    lost = Credential.objects.filter(provider__provider_id="gh-lost").values_list("pk", flat=True).get()
    assert [pk for r in results for pk in r.failures] == [lost]
    assert not writer[0].is_alive()
    statuses = {keys.key_status(token) for _, token in keys.raw_values(Credential, field, limit=100)}
    assert statuses == {"primary", "undecryptable"}
    keys_setting("new-key")
    readable = Credential.objects.exclude(provider__provider_id="gh-lost")
    assert sorted(json.loads(c.secret)["accessToken"] for c in readable) == [f"token-{n}" for n in range(9)]


def test_the_command_reports_the_same_figures_when_pipelined(keys_setting):
    keys_setting("old-key")
    for n in range(5):
        ProviderFactory(provider_id=f"gh-{n}")
    keys_setting("new-key", "old-key")
    out, err = io.StringIO(), io.StringIO()

    call_command("rotate_keys", batch_size=2, stdout=out, stderr=err)

    line = next(line for line in out.getvalue().splitlines() if line.startswith("credential.secret:"))
    assert (
        line == "credential.secret: 5 rotated, 0 already under the first key, 0 still under older keys, 0 undecryptable"
    )
    assert "[####################] 5/5 credential.secret" in err.getvalue()
