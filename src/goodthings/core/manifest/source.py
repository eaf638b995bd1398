"""Read YAML while remembering where every value came from, so errors can name the line.

PyYAML's composed node tree carries start marks; we walk it once to build both the plain
Python data and a map from each value's path (keys and list indexes) to its line number.
Duplicate keys, which PyYAML would silently overwrite, are reported instead.

Whatever the input, the answer is a value or a ManifestError naming line and column: every
error class of PyYAML (reader, scanner, parser, composer, constructor) and the ValueErrors its
constructors let through (a date like 2001-13-45, an integer of 5,000 digits, `!!timestamp x`)
become Problems.
Aliases are allowed, but a file that expands to more than MAX_VALUES values (a "billion
laughs" bomb) is refused while walking it, before it takes memory; nesting deeper than
MAX_DEPTH is refused while composing, before it takes the stack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from goodthings.core.errors import ManifestError, Problem

PathKey = tuple[str | int, ...]

MAX_VALUES = 100_000
"""More values than any manifest holds once its aliases are expanded (the examples hold a few
hundred)."""
MAX_DEPTH = 64
"""Deeper than any manifest nests (the examples nest seven levels)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans, so `off`, `no` and
    `yes` stay the words the operator wrote (a minimisation level `off` must not become False).
    It also refuses nesting deeper than MAX_DEPTH, where PyYAML's composer would recurse."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested too deeply (more than {MAX_DEPTH} levels)",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


@dataclass(frozen=True)
class Located:
    """Plain data parsed from a file, with the line of every value in it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of `path`, or of its nearest ancestor that exists in the file."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), None)

    def problem(self, path: Sequence[str | int], message: str) -> Problem:
        return Problem(self.file, self.line_of(path), dotted(path), message)


def dotted(path: Sequence[str | int]) -> str:
    """`("devices", 2, "model")` → `devices[2].model`, the way people read a path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def load_yaml(text: str, file: str) -> Located:
    """Parse one YAML document; raise ManifestError with line and column on any YAML error."""
    try:
        loader = _Loader(text)  # PyYAML's reader checks the characters here already
    except yaml.reader.ReaderError as exc:
        raise ManifestError([_unreadable(text, exc, file)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ManifestError([Problem(file, 1, "(top level)", "the file is empty")])
        walk = _Walk(loader, file)
        data = walk.value(node, ())
    except yaml.reader.ReaderError as exc:
        raise ManifestError([_unreadable(text, exc, file)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "not valid YAML"
        raise ManifestError([_syntax(file, mark, what)]) from None
    finally:
        loader.dispose()
    if walk.problems:
        raise ManifestError(walk.problems)
    return Located(file, data, walk.lines)


def read_text(path: Path) -> str:
    """The text of a manifest file; ManifestError when it is missing, unreadable or not UTF-8."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ManifestError([Problem(str(path), None, "(file)", "no such file")]) from None
    except OSError as exc:
        problem = Problem(str(path), None, "(file)", f"cannot be read: {exc.strerror or exc}")
        raise ManifestError([problem]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_and_column(raw, exc.start)
        message = (
            f"not UTF-8 text at column {column} (byte 0x{raw[exc.start]:02x}); "
            "save the file as UTF-8"
        )
        raise ManifestError([Problem(str(path), line, "(file)", message)]) from None


class _ValueBomb(Exception):
    """The walk passed MAX_VALUES: stop before the expansion takes memory."""


class _Walk:
    """One walk over a composed node tree: the plain data, the line of every path, problems."""

    def __init__(self, loader: _Loader, file: str) -> None:
        self.loader, self.file = loader, file
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []
        self.count = 0

    def value(self, node: yaml.Node, path: PathKey) -> Any:
        try:
            return self._value(node, path)
        except _ValueBomb:
            message = (
                f"the file holds more than {MAX_VALUES} values once its aliases are expanded; "
                "a manifest needs far fewer (are aliases repeating each other?)"
            )
            self.problems = [_syntax(self.file, node.start_mark, message)]
            return None

    def _value(self, node: yaml.Node, path: PathKey) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            raise _ValueBomb
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self._value(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: PathKey) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(
                        self.file,
                        key_node.start_mark.line + 1,
                        dotted(path),
                        "a key must be a single word or number, not a list or mapping",
                    )
                )
                continue
            key = self._scalar(key_node)
            if key in result:
                self.problems.append(
                    Problem(
                        self.file,
                        key_node.start_mark.line + 1,
                        dotted((*path, str(key))),
                        f"the key {key!r} appears twice in the same block; keep one",
                    )
                )
                continue
            self.lines[(*path, str(key))] = key_node.start_mark.line + 1
            result[key] = self._value(value_node, (*path, str(key)))
        return result

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            raise
        except Exception as exc:
            # PyYAML's constructors let these through for values its patterns match but
            # Python refuses (a date like 2001-13-45, an integer of 5,000 digits), and for
            # explicit tags on text they cannot read (`!!timestamp x` is an AttributeError).
            shown = str(node.value)
            shown = shown if len(shown) <= 40 else f"{shown[:37]}..."
            message = f"{shown} is not a valid value ({exc})"
            self.problems.append(_syntax(self.file, node.start_mark, message))
            return None


def _syntax(file: str, mark: yaml.Mark | None, what: str) -> Problem:
    if mark is None:
        return Problem(file, None, "(syntax)", f"not valid YAML: {what}")
    return Problem(
        file, mark.line + 1, "(syntax)", f"not valid YAML at column {mark.column + 1}: {what}"
    )


def _unreadable(text: str, exc: yaml.reader.ReaderError, file: str) -> Problem:
    line, column = _line_and_column(text, exc.position)
    character = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return Problem(
        file,
        line,
        "(syntax)",
        f"not valid YAML at column {column}: the character {character!r} is not allowed in "
        "YAML (control characters other than tab and line breaks); remove it",
    )


def _line_and_column(text: str | bytes, position: int) -> tuple[int, int]:
    """1-based line and column of an offset (characters of a str, bytes of bytes)."""
    newline: Any = "\n" if isinstance(text, str) else b"\n"
    line_start = text.rfind(newline, 0, position) + 1
    return text.count(newline, 0, position) + 1, position - line_start + 1
