"""Every value of an export replaced, one at a time, by a value of another type or shape: each
plan answers with errors in the file (or a plan), never an exception."""

import copy
import json

import pytest
import yaml

from .helpers import exported, plan

pytestmark = pytest.mark.django_db
HOSTILE = [1, None, [], {"secretRef": {"env": "NOT_SET_ANYWHERE"}}, "\x00", "x" * 5000]


def paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))
    if prefix:
        yield prefix


def replaced(document, path, value):
    copied = copy.deepcopy(document)
    target = copied
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copied


def test_no_value_makes_a_plan_fail_unexpectedly(acme):
    document = yaml.safe_load(exported(acme))
    cases = [(path, value) for path in paths(document) for value in HOSTILE]
    assert len(cases) > 500
    for path, value in cases:
        result = plan(acme, json.dumps(replaced(document, path, value)))
        assert result.exit_code in (0, 1, 2), (path, value)
