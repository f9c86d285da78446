"""What a file deletes: only the objects marked as managed by it (`managedBy`) that it no longer
lists, and the objects it lists as `state: absent` — those it does not manage only with
`prune_unmanaged`."""

import pytest

from providers.configuration.services import ConfigRefusedError
from providers.models import Project, Provider

from .helpers import apply, exported, plan

pytestmark = pytest.mark.django_db


def managed(text: str, name: str = "platform") -> str:
    return text.replace("workspace: acme\n", f"workspace: acme\nmanagedBy: {name}\n")


def test_managed_by_marks_what_the_file_lists(acme):
    text = managed(exported(acme))
    result = plan(acme, text)
    assert result.counts() == {"create": 0, "update": 5, "delete": 0, "unchanged": 0}
    assert all(change.fields[-1].path == "managedBy" for change in result.changes)
    apply(acme, text)
    assert set(Provider.objects.filter(workspace=acme).values_list("managed_by", flat=True)) == {"platform"}
    assert plan(acme, text).changes == []
    assert exported(acme) == text  # the export says who manages it all


def test_an_object_the_file_manages_and_no_longer_lists_is_deleted(acme):
    text = managed(exported(acme))
    apply(acme, text)
    without = text.replace(text[text.index("- id: data-pipeline") : text.index("- id: payments-api")], "")
    result = plan(acme, without)
    assert [line for change in result.changes for line in change.lines()] == ["- delete projects data-pipeline"]
    assert result.exit_code == 2
    apply(acme, without)
    assert not Project.objects.filter(workspace=acme, project_id="data-pipeline").exists()


def test_another_files_objects_and_hand_made_ones_stay(acme):
    apply(acme, managed(exported(acme), "other"))
    result = plan(acme, "version: 1\nmanagedBy: platform\nprojects: []\n")
    assert result.changes == []


def test_state_absent_of_an_unmanaged_object_is_refused_unless_pruning(acme):
    text = "version: 1\nprojects:\n- id: data-pipeline\n  state: absent\n"
    result = plan(acme, text)
    assert result.exit_code == 3
    assert result.changes[0].lines() == ["- delete projects data-pipeline (not managed by this file)"]
    with pytest.raises(ConfigRefusedError):
        apply(acme, text)
    assert Project.objects.filter(workspace=acme, project_id="data-pipeline").exists()
    apply(acme, text, prune_unmanaged=True)
    assert not Project.objects.filter(workspace=acme, project_id="data-pipeline").exists()


def test_state_absent_of_a_managed_object_deletes_it(acme):
    text = managed(exported(acme))
    apply(acme, text)
    section = text[text.index("identityProviders:\n") : text.index("projects:\n")]
    absent = "identityProviders:\n- alias: okta\n  state: absent\n- alias: corp-saml\n  state: absent\n"
    absent += "- alias: never-existed\n  state: absent\n"
    result = apply(acme, text.replace(section, absent))
    assert result.errors == []
    assert result.counts() == {"create": 0, "update": 0, "delete": 2, "unchanged": 4}
    assert list(Provider.objects.filter(workspace=acme).values_list("provider_id", flat=True)) == ["github-cloud"]


def test_a_provider_still_linked_is_not_deleted(acme):
    apply(acme, managed(exported(acme)))
    text = "version: 1\nmanagedBy: platform\nproviders:\n- id: github-cloud\n  state: absent\nprojects:\n"
    text += "- id: data-pipeline\n  name: Data pipeline\n"
    linked = (
        text + "- id: payments-api\n  name: Payments API\n  repository: {providerId: github-cloud, path: acme/pay}\n"
    )
    result = plan(acme, linked)
    assert result.exit_code == 1
    [error] = result.errors
    assert str(error) == (
        "providers[github-cloud]: Still linked from projects: payments-api; link them elsewhere first."
    )
    relinked = text + "- id: payments-api\n  name: Payments API\n"
    result = plan(acme, relinked)
    assert result.errors == []
    assert {(c.section, c.action) for c in result.changes} >= {("providers", "delete"), ("projects", "update")}


def test_a_managed_provider_and_its_managed_projects_go_together(acme):
    """The projects the file no longer lists are deleted first: they do not hold the provider."""
    apply(acme, managed(exported(acme)))
    text = "version: 1\nmanagedBy: platform\nidentityProviders: []\n"
    result = plan(acme, text)
    assert result.errors == []
    assert result.counts()["delete"] == 5
    applied = apply(acme, text)
    assert applied.counts()["delete"] == 5
    assert not Provider.objects.filter(workspace=acme).exists()
