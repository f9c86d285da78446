"""A file sent as bytes (the command, the API) is read by libyaml's parser, text by PyYAML's own:
both give the same objects, values and lines, and refuse the same files at the same line."""

import io

import pytest

from providers.configuration import document
from providers.configuration.document import DocumentError

from .helpers import exported, populate, workspace


def outcome(source) -> tuple[list, DocumentError | None]:
    elements = []
    try:
        for element in document.read(source):
            elements.append((type(element).__name__, getattr(element, "data", element), getattr(element, "lines", {})))
    except DocumentError as exc:
        return elements, exc
    return elements, None


def test_bytes_go_to_the_fast_reader_and_text_to_the_pure_one():
    assert type(document._loader(io.BytesIO(b"version: 1\n"))).__name__ == "_FastReader"
    assert type(document._loader(b"version: 1\n")).__name__ == "_FastReader"
    assert type(document._loader("version: 1\n")).__name__ == "_Reader"
    assert type(document._loader(io.StringIO("version: 1\n"))).__name__ == "_Reader"


@pytest.mark.django_db
def test_an_export_reads_the_same_from_bytes_and_text():
    ws = workspace("acme")
    populate(ws)
    text = exported(ws, secret_refs="env")
    from_text, error = outcome(text)
    assert error is None
    assert len(from_text) == 6  # the header and five objects
    assert outcome(io.BytesIO(text.encode())) == (from_text, None)
    assert outcome(text.encode()) == (from_text, None)


BAD = [
    "version: 1\nproviders:\n- id: a\n  label: [unclosed\n",
    "version: 1\nproviders:\n- id: a\n  id: b\n",
    "version: 1\nversion: 1\n",
    "version: 1\n---\nversion: 1\n",
    "- just\n- a list\n",
    "version: 1\nprojects: 12\n",
    "version: 1\nprojects:\n- 12\n",
    "",
    "version: 1\nprojects:\n- id: p\n  name: n\n  x: &a [1, 2]\n  y: *a\n  ? [k]\n  : v\n",
]


@pytest.mark.parametrize("text", BAD)
def test_a_bad_file_is_refused_at_the_same_line_either_way(text):
    from_text, text_error = outcome(text)
    from_bytes, bytes_error = outcome(text.encode())
    assert from_bytes == from_text
    assert text_error is not None and bytes_error is not None
    assert (bytes_error.line, bytes_error.path) == (text_error.line, text_error.path)
    if text_error.message.startswith("Not valid YAML"):  # the parsers word the problem each their own way
        assert bytes_error.message.startswith("Not valid YAML")
    else:
        assert bytes_error.message == text_error.message


def test_a_lone_surrogate_is_refused_either_way():
    text = 'version: 1\nprojects:\n- id: p\n  name: "\\ud800"\n'
    _, text_error = outcome(text)
    _, bytes_error = outcome(text.encode())
    assert text_error is not None and text_error.message.startswith("Strings must be valid Unicode")
    assert bytes_error is not None and bytes_error.message.startswith("Not valid YAML")  # libyaml's own check
    assert bytes_error.line == text_error.line == 4


def test_bytes_that_are_not_utf8_are_refused():
    _, error = outcome(b"version: 1\nworkspace: \xff\xfe\n")
    assert error is not None
    assert error.message.startswith("Not UTF-8 text YAML accepts")


def test_the_nodes_of_objects_already_read_are_not_kept(monkeypatch):
    """Memory follows one object, not the file: the constructor forgets each object's nodes."""
    loaders = []
    make = document._loader
    monkeypatch.setattr(document, "_loader", lambda stream: loaders.append(make(stream)) or loaders[-1])
    text = "version: 1\nprojects:\n" + "".join(
        f"- id: p{n}\n  name: Project {n}\n  repository: {{providerId: null, path: team/p{n}}}\n" for n in range(300)
    )
    for source in (text, text.encode()):
        for element in document.read(source):
            assert len(loaders[-1].constructed_objects) < 10, element


def test_an_alias_to_an_earlier_object_still_reads():
    text = "version: 1\nprojects:\n- id: a\n  name: &n Shared name\n- id: b\n  name: *n\n"
    for source in (text, text.encode()):
        items = [element.data for element in document.read(source) if isinstance(element, document.Item)]
        assert [item["name"] for item in items] == ["Shared name", "Shared name"]
