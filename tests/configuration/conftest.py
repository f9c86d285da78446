import pytest

from .helpers import populate, workspace


@pytest.fixture
def acme(db):
    """Workspace `acme` with one object of every kind (`helpers.populate`)."""
    ws = workspace("acme")
    populate(ws)
    return ws
