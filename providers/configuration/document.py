"""Reading a configuration file: YAML (or JSON, which YAML reads too), one object at a time.

The file is parsed as a stream of events and each listed object is built on its own, with the line
of every value it holds, so that memory follows the largest object rather than the whole file and
every error can name its line and field path (`identityProviders[3].oidc_config.issuer`)."""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

SECTIONS = ("providers", "identityProviders", "projects")
HEADER_KEYS = ("version", "workspace", "managedBy")
VERSION = 1
MAX_DEPTH = 20
# Values one object may hold once YAML aliases are expanded: a few aliases nested can otherwise
# stand for billions of values ("billion laughs").
MAX_VALUES = 100_000
MANAGED_BY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class DocumentError(Exception):
    """A problem with the file itself, at a line (1-based; 0 when unknown) and a field path."""

    def __init__(self, message: str, *, line: int = 0, path: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}"


@dataclass
class Item:
    """One object of a section, as plain data, with the line of each of its values by path."""

    section: str
    index: int
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return f"{self.section}[{self.index}]"

    def line(self, path: str = "") -> int:
        """The line of `path` inside the object (`oidc_config.issuer`, `mappers.2.config`), or of
        the nearest enclosing value the file has."""
        parts = path.split(".") if path else []
        while parts:
            found = self.lines.get(".".join(parts))
            if found is not None:
                return found
            parts.pop()
        return self.lines.get("", 0)

    def error(self, message: str, path: str = "") -> DocumentError:
        return DocumentError(message, line=self.line(path), path=_join(self.path, path))


def _join(base: str, path: str) -> str:
    if not path:
        return base
    pieces = []
    for part in path.split("."):
        if part.isdigit():
            pieces.append(f"[{part}]")
        else:
            pieces.append(f".{part}")
    return base + "".join(pieces)


def _compose(loader: "Loader") -> yaml.Node:
    node = loader.compose_node(None, None)  # type: ignore[arg-type]
    assert node is not None  # an event is pending: the caller checked it is not an end
    return node


def _checked(value: Any, node: yaml.Node) -> Any:
    """YAML's escapes (as JSON's) can spell lone surrogates (`"\\ud800"`), which no UTF-8 response or
    database holds: refused."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DocumentError("Strings must be valid Unicode (no lone surrogates).", line=_line(node)) from None
    return value


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Reader(yaml.SafeLoader):
    """SafeLoader's scanner, parser and scalar constructors, driven one object at a time."""


try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover  (PyYAML built without libyaml)
    CParser = None  # type: ignore[misc,assignment]

if CParser is not None:

    class _FastReader(CParser, Composer, SafeConstructor, Resolver):
        """The same, with libyaml's scanner and parser (C) under SafeLoader's composer, resolver and
        constructors: the same events, nodes, marks and values, read several times faster (the pure
        Python scanner was most of a large plan's time, docs/benchmarks-config.md). For bytes only:
        libyaml encodes text to UTF-8 first, where a lone surrogate fails outside YAML's errors."""

        def __init__(self, stream: IO[bytes] | bytes):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
else:  # pragma: no cover  (PyYAML built without libyaml: the pure reader for all)
    _FastReader = _Reader  # type: ignore[misc,assignment]


Loader = _Reader | _FastReader


def _loader(stream: IO[str] | IO[bytes] | str) -> Loader:
    binary = isinstance(stream, bytes | bytearray) or (
        hasattr(stream, "read") and not isinstance(stream, io.TextIOBase)
    )
    if binary:
        return _FastReader(stream)  # type: ignore[arg-type]
    return _Reader(stream)


def _build(loader: Loader, node: yaml.Node, path: str, lines: dict[str, int], count: list[int], depth: int = 0) -> Any:
    """The node's value, recording each value's line under its dotted path. Duplicate keys (YAML
    would keep the last silently), keys that are not strings, nesting past MAX_DEPTH and more than
    MAX_VALUES values are refused."""
    lines.setdefault(path, _line(node))
    count[0] += 1
    if depth > MAX_DEPTH:
        raise DocumentError(f"Nested more than {MAX_DEPTH} levels deep.", line=_line(node))
    if count[0] > MAX_VALUES:
        raise DocumentError(
            f"More than {MAX_VALUES} values in one object (YAML aliases count each time).", line=_line(node)
        )
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        value: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _checked(loader.construct_object(key_node), key_node)
            if not isinstance(key, str):
                raise DocumentError(f"Keys are strings, not {type(key).__name__}.", line=_line(key_node))
            if key in value:
                raise DocumentError(f"Duplicate key “{key[:64]}”.", line=_line(key_node), path=key)
            child = f"{path}.{key}" if path else key
            lines[child] = _line(key_node)  # a field's line is where it is named
            value[key] = _build(loader, value_node, child, lines, count, depth + 1)
        return value
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, f"{path}.{index}" if path else str(index), lines, count, depth + 1)
            for index, item in enumerate(node.value)
        ]
    scalar = loader.construct_object(node)
    if not isinstance(scalar, (str, bool, int, float, type(None))):
        # Timestamps and binary: the file's values are JSON's, so a date is written as a string.
        scalar = loader.construct_scalar(node)  # type: ignore[arg-type]
    return _checked(scalar, node)


@dataclass
class Header:
    version: int = VERSION
    workspace: str = ""
    managed_by: str = ""


def _yaml_error(exc: yaml.YAMLError) -> DocumentError:
    if isinstance(exc, yaml.reader.ReaderError):
        return DocumentError(f"Not UTF-8 text YAML accepts: {exc.reason} (byte {exc.position}).", line=0)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return DocumentError(f"Not valid YAML: {problem}.", line=mark.line + 1 if mark else 0)


def read(stream: IO[str] | IO[bytes] | str) -> Iterator[Header | Item]:
    """The file's header (`version`, `workspace`, `managedBy`: before the sections), yielded once,
    then its objects in file order. Raises DocumentError at the first problem with the file's
    structure; what an object says is checked later, object by object."""
    header = Header()
    seen: set[str] = set()
    loader: Loader | None = None
    try:
        loader = _loader(stream)  # reads the first bytes: a file that is not text fails here
        loader.get_event()  # StreamStart
        if loader.check_event(yaml.StreamEndEvent):
            raise DocumentError("The file is empty.", line=1)
        loader.get_event()  # DocumentStart
        if not loader.check_event(yaml.MappingStartEvent):
            node = _compose(loader)
            raise DocumentError("Expected a mapping of `version`, `providers`, … at the top.", line=_line(node))
        loader.get_event()
        header_sent = False
        while not loader.check_event(yaml.MappingEndEvent):
            key_node = _compose(loader)
            key = _checked(loader.construct_object(key_node), key_node)
            line = _line(key_node)
            if not isinstance(key, str) or key not in HEADER_KEYS + SECTIONS:
                expected = ", ".join(HEADER_KEYS + SECTIONS)
                raise DocumentError(f"Unknown key (expected: {expected}).", line=line, path=str(key)[:64])
            if key in seen:
                raise DocumentError(f"Duplicate key “{key}”.", line=line, path=key)
            seen.add(key)
            if key in HEADER_KEYS:
                if header_sent:
                    raise DocumentError(
                        f"`{key}` goes before the sections ({', '.join(SECTIONS)}).", line=line, path=key
                    )
                value_node = _compose(loader)
                _set_header(header, key, _build(loader, value_node, key, {}, [0]), _line(value_node))
                continue
            if not header_sent:
                _require_version(seen, line)
                yield header
                header_sent = True
            yield from _section(loader, key)
        if not header_sent:
            _require_version(seen, 1)
            yield header
        loader.get_event()  # MappingEnd
        loader.get_event()  # DocumentEnd
        if not loader.check_event(yaml.StreamEndEvent):
            mark = loader.peek_event().start_mark  # type: ignore[union-attr]
            line = mark.line + 1 if mark else 0
            raise DocumentError("One document per file (found a second `---`).", line=line)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from None
    finally:
        if loader is not None:
            loader.dispose()


def _require_version(seen: set[str], line: int) -> None:
    """The format's version comes first: a later version's file is refused, not misread."""
    if "version" not in seen:
        raise DocumentError(f"`version: {VERSION}` is required before the sections.", line=line, path="version")


def _set_header(header: Header, key: str, value: Any, line: int) -> None:
    if key == "version":
        if value != VERSION or isinstance(value, bool):
            raise DocumentError(f"Only version {VERSION} is known.", line=line, path=key)
        header.version = value
    elif not isinstance(value, str):
        raise DocumentError("Expected a string.", line=line, path=key)
    elif key == "workspace":
        header.workspace = value
    else:
        if not MANAGED_BY.fullmatch(value):
            raise DocumentError(
                "1–100 letters, digits, “-”, “_” and “.”, starting with a letter or digit.", line=line, path=key
            )
        header.managed_by = value


def _section(loader: Loader, section: str) -> Iterator[Item]:
    if loader.check_event(yaml.ScalarEvent):
        node = _compose(loader)
        if loader.construct_object(node) is None:  # `projects:` with nothing after it
            return
        raise DocumentError("Expected a list.", line=_line(node), path=section)
    if not loader.check_event(yaml.SequenceStartEvent):
        node = _compose(loader)
        raise DocumentError("Expected a list.", line=_line(node), path=section)
    loader.get_event()
    index = 0
    while not loader.check_event(yaml.SequenceEndEvent):
        node = _compose(loader)
        lines: dict[str, int] = {}
        try:
            data = _build(loader, node, "", lines, [0])
        except DocumentError as exc:
            exc.path = _join(f"{section}[{index}]", exc.path)
            raise
        # The constructor keeps every node it built (for aliases to them) until the end of the
        # document: forgotten after each object, so that the file's nodes are not all kept. An
        # alias to an earlier object's value is built again from its node (the composer keeps
        # anchored nodes) and counted again.
        loader.constructed_objects.clear()
        item = Item(section=section, index=index, data=data, lines=lines)
        if not isinstance(data, dict):
            raise item.error("Expected an object.")
        yield item
        index += 1
    loader.get_event()
