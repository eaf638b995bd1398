"""Read YAML while remembering where every value came from, so errors can name the line.

PyYAML's composed node tree carries start marks; we walk it once to build both the plain
Python data and a map from each value's path (keys and list indexes) to its line number.
Duplicate keys, which PyYAML would silently overwrite, are reported instead.
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


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans, so `off`, `no` and
    `yes` stay the words the operator wrote (a minimisation level `off` must not become False)."""


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
    """Parse one YAML document; raise ManifestError with the line on a syntax error."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ManifestError([Problem(file, 1, "(top level)", "the file is empty")])
        lines: dict[PathKey, int] = {}
        problems: list[Problem] = []
        data = _walk(loader, node, (), lines, problems, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = exc.problem or exc.context or "not valid YAML"
        raise ManifestError([Problem(file, line, "(syntax)", f"not valid YAML: {what}")]) from exc
    finally:
        loader.dispose()
    if problems:
        raise ManifestError(problems)
    return Located(file, data, lines)


def load_yaml_file(path: Path) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ManifestError([Problem(str(path), None, "(file)", "no such file")]) from exc
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(str(path), None, "(file)", "not UTF-8 text")]) from exc
    return load_yaml(text, str(path))


def _walk(
    loader: _Loader,
    node: yaml.Node,
    path: PathKey,
    lines: dict[PathKey, int],
    problems: list[Problem],
    file: str,
) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in result:
                problems.append(
                    Problem(
                        file,
                        key_node.start_mark.line + 1,
                        dotted((*path, str(key))),
                        f"the key {key!r} appears twice in the same block; keep one",
                    )
                )
                continue
            lines[(*path, str(key))] = key_node.start_mark.line + 1
            result[key] = _walk(loader, value_node, (*path, str(key)), lines, problems, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(loader, item, (*path, index), lines, problems, file)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
