"""Bad files: each error names the file's line and the field's path, the exit code is 1 and
nothing is written, whichever object is at fault (the last one included)."""

import pytest

from providers.models import AuditEvent, IdentityProvider, Project, Provider

from .helpers import apply, exported, plan

pytestmark = pytest.mark.django_db


def errors(result) -> list[tuple[int, str]]:
    return [(error.line, str(error)) for error in result.errors]


def line_of(text: str, needle: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def test_a_yaml_error_names_its_line(acme):
    result = plan(acme, "version: 1\nproviders:\n- id: a\n  label: [unclosed\n")
    assert result.exit_code == 1
    [(line, message)] = errors(result)
    assert line >= 4
    assert message.startswith("Not valid YAML")


@pytest.mark.parametrize(
    ("edit", "needle", "expected"),
    [
        (
            ("  enabled: true\n  credentials:", "  enabled: true\n  colour: blue\n  credentials:"),
            "colour: blue",
            "providers[0].colour: Unknown field.",
        ),
        (
            ("  trust_email: false", "  trust_email: 'no'"),
            "trust_email: 'no'",
            "identityProviders[0].trust_email: Expected true or false.",
        ),
        (
            ("    issuer: https://acme.okta.com/oauth2/default", "    issuer: 12"),
            "    issuer: 12",
            "identityProviders[1].oidc_config.issuer: Expected a string.",
        ),
        (
            ("      user_attribute: department", "      user_attribute: department\n      colour: blue"),
            "colour: blue",
            "identityProviders[1].mappers[1].config.colour:",
        ),
        (
            ("    providerId: github-cloud", "    providerId: gitlab-gone"),
            "providerId: gitlab-gone",
            "projects[1].repository.providerId: No git provider “gitlab-gone” in this workspace or this file.",
        ),
        (
            ("    providerId: github-cloud", "    providerId: okta"),
            "providerId: okta",
            "projects[1].repository.providerId: No git provider “okta” in this workspace or this file.",
        ),
        (("workspace: acme", "workspace: acme\nprojectz: []"), "projectz", "projectz: Unknown key"),
    ],
)
def test_a_bad_value_names_its_line_and_path(acme, edit, needle, expected):
    text = exported(acme).replace(*edit, 1)
    assert text != exported(acme)
    result = plan(acme, text)
    assert result.exit_code == 1
    [(line, message)] = errors(result)
    assert message.startswith(expected), message
    assert line == line_of(text, needle)


def test_a_missing_variable_or_file_is_named(acme, tmp_path):
    text = exported(acme).replace(
        "    client_id: 0oa1\n", "    client_id: 0oa1\n    client_secret:\n      secretRef: {env: NOT_SET_ANYWHERE}\n"
    )
    [(line, message)] = errors(plan(acme, text))
    assert (
        message == "identityProviders[1].oidc_config.client_secret: Environment variable NOT_SET_ANYWHERE is not set."
    )
    assert line == line_of(text, "client_secret:")
    text = text.replace("{env: NOT_SET_ANYWHERE}", "{file: secrets/okta.txt}")
    [(_, message)] = errors(plan(acme, text, tmp_path))
    assert message.startswith(
        "identityProviders[1].oidc_config.client_secret: Cannot read secret file secrets/okta.txt"
    )
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "okta.txt").write_text("from-the-file\n")
    result = plan(acme, text, tmp_path)
    assert result.errors == []
    assert next(change.describe() for change in result.changes[0].fields).startswith(
        "oidc_config.client_secret: changed (fingerprint "
    )


def test_a_secret_written_out_is_refused(acme):
    text = exported(acme).replace("    client_id: 0oa1\n", "    client_id: 0oa1\n    client_secret: plain-text\n")
    [(_, message)] = errors(plan(acme, text))
    assert message.startswith("identityProviders[1].oidc_config.client_secret: Secrets are not written in the file")
    assert "plain-text" not in message


def test_the_last_object_failing_leaves_the_database_unchanged(acme, monkeypatch):
    monkeypatch.setenv("NEW_TOKEN", "ghp_new")
    before = (Provider.objects.count(), IdentityProvider.objects.count(), Project.objects.count())
    events = AuditEvent.objects.count()
    text = exported(acme).replace("label: Company GitHub", "label: GitHub") + (
        "- id: broken\n  name: Broken\n  repository: {providerId: nowhere}\n"
    )
    text = text.replace(
        "providers:\n",
        "providers:\n- id: new-one\n  label: New\n  type: gitlab\n  credentials:\n    type: token\n"
        "    content: {accessToken: {secretRef: {env: NEW_TOKEN}}}\n",
    )
    result = apply_refused(acme, text)
    assert [str(e) for e in result.errors] == [
        "projects[2].repository.providerId: No git provider “nowhere” in this workspace or this file."
    ]
    assert (Provider.objects.count(), IdentityProvider.objects.count(), Project.objects.count()) == before
    assert Provider.objects.get(workspace=acme, provider_id="github-cloud").label == "Company GitHub"
    assert AuditEvent.objects.count() == events


def apply_refused(ws, text):
    from providers.configuration.services import ConfigRefusedError

    with pytest.raises(ConfigRefusedError) as refused:
        apply(ws, text)
    return refused.value.plan


def test_an_object_listed_twice_is_refused(acme):
    text = exported(acme)
    doubled = text.replace("projects:\n", "projects:\n- id: payments-api\n  name: Again\n")
    [(_line, message)] = errors(plan(acme, doubled))
    assert message.startswith("projects[2].id: Listed twice (first on line ")


def test_yaml_aliases_cannot_blow_up(acme):
    bomb = "version: 1\nprojects:\n- id: p\n  name: n\n  description: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 8):
        bomb = bomb.replace(f"  description: &{chr(96 + level)}", f"  l{level}: &{chr(96 + level)}")
        bomb += f"  l{level + 1}: &{chr(97 + level)} [{', '.join([f'*{chr(96 + level)}'] * 10)}]\n"
    [(_, message)] = errors(plan(acme, bomb))
    assert "values in one object" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "The file is empty."),
        ("- a\n- b\n", "Expected a mapping of `version`, `providers`, … at the top."),
        ("projects: []\n", "version: `version: 1` is required before the sections."),
        ("version: 2\n", "version: Only version 1 is known."),
        ("version: 1\nversion: 1\n", "version: Duplicate key “version”."),
        ("version: 1\nprojects: []\nmanagedBy: x\n", "managedBy: `managedBy` goes before the sections"),
        ("version: 1\nmanagedBy: 'a b'\n", "managedBy: 1–100 letters"),
        ("version: 1\nprojects: {id: a}\n", "projects: Expected a list."),
        ("version: 1\nprojects:\n- just-a-string\n", "projects[0]: Expected an object."),
        ("version: 1\nprojects:\n- id: a\n  name: A\n  name: B\n", "projects[0].name: Duplicate key “name”."),
        ("version: 1\n---\nversion: 1\n", "One document per file"),
        ('version: 1\nprojects:\n- id: a\n  name: "\\ud800"\n', "projects[0]: Strings must be valid Unicode"),
    ],
)
def test_the_file_itself_is_checked(acme, text, expected):
    result = plan(acme, text)
    assert result.exit_code == 1
    [error] = result.errors
    assert str(error).startswith(expected), str(error)


def test_a_file_with_nothing_to_do(acme):
    assert plan(acme, "version: 1\n").exit_code == 0
    assert plan(acme, "version: 1\nprojects:\n").exit_code == 0


def test_one_id_under_both_provider_sections_is_refused(acme):
    text = exported(acme).replace("- alias: corp-saml", "- alias: github-cloud", 1)
    messages = [str(error) for error in plan(acme, text).errors]
    assert messages[0].startswith("identityProviders[0].alias: Also listed under `providers` (line 4)")


def test_a_project_may_not_link_a_provider_of_another_capability_the_file_creates(acme, monkeypatch):
    monkeypatch.setenv("OKTA_TOKEN", "okta-api-token")
    text = (
        exported(acme)
        .replace(
            "providers:\n",
            "providers:\n- id: okta-api\n  label: Okta API\n  type: okta\n  credentials:\n    type: token\n"
            "    content: {accessToken: {secretRef: {env: OKTA_TOKEN}}}\n",
        )
        .replace("providerId: github-cloud", "providerId: okta-api")
    )
    [error] = plan(acme, text).errors
    assert str(error) == "projects[1].repository.providerId: “okta-api” is not a git provider."


def test_each_object_is_validated_on_its_own(acme):
    """One serializer validates every object of a kind in turn: an object's errors or spelling do
    not carry over to the next."""
    text = (
        "version: 1\nidentityProviders:\n"
        "- alias: kc\n  providerId: oidc\n  config: {clientId: a, issuer: 12}\n"
        "- alias: ok\n  provider_id: oidc\n  oidc_config: {client_id: b, issuer: 'https://b.test', colour: x}\n"
        "- alias: fine\n  provider_id: oidc\n  oidc_config: {client_id: c, issuer: 'https://c.test'}\n"
        "projects:\n- id: p1\n  name: 12\n- id: p2\n  name: Two\n"
    )
    found = errors(plan(acme, text))
    assert [line for line, _ in found] == [5, 8, 14]
    assert found[0][1].startswith("identityProviders[0].config.issuer")
    assert found[1][1].startswith("identityProviders[1].oidc_config.colour: Unknown field.")
    assert found[2][1].startswith("projects[0].name")
