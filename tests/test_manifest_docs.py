"""docs/manifest.md keeps up with the schema: every field, every DPV term, every full example valid."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from goodthings.core.manifest import Manifest, load_manifest_text
from goodthings.core.manifest.vocabulary import LEGAL_BASES, PERSONAL_DATA_CATEGORIES, PURPOSES

DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "manifest.md"
DOC = DOC_PATH.read_text(encoding="utf-8")

_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _types_in(annotation: Any) -> Iterator[Any]:
    """`annotation` and every type nested in it: list items, `X | None`, Annotated, Literal."""
    yield annotation
    for arg in typing.get_args(annotation):
        yield from _types_in(arg)


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """Every pydantic model reachable from `root` through its fields, `root` first."""
    found: list[type[BaseModel]] = []
    pending = [root]
    while pending:
        model = pending.pop(0)
        if model in found:
            continue
        found.append(model)
        for field in model.model_fields.values():
            pending.extend(
                kind
                for kind in _types_in(field.annotation)
                if isinstance(kind, type) and issubclass(kind, BaseModel)
            )
    return found


MODELS = _models(Manifest)
FIELDS = sorted({(model.__name__, name) for model in MODELS for name in model.model_fields})


def _choices() -> list[str]:
    """Every fixed value a field accepts: enum members and string literals (e.g. recipient kinds)."""
    values: set[str] = set()
    for model in MODELS:
        for field in model.model_fields.values():
            for kind in _types_in(field.annotation):
                if isinstance(kind, type) and issubclass(kind, Enum):
                    values.update(str(member.value) for member in kind)
                elif typing.get_origin(kind) is typing.Literal:
                    values.update(arg for arg in typing.get_args(kind) if isinstance(arg, str))
    return sorted(values)


TERMS = sorted(
    {
        (vocabulary.kind, name)
        for vocabulary in (PURPOSES, PERSONAL_DATA_CATEGORIES, LEGAL_BASES)
        for name in vocabulary.names()
    }
)


def _manifest_examples() -> list[str]:
    """Code blocks that are whole manifests: their first line that is not a comment is `version: 1`."""
    examples = []
    for block in _YAML_BLOCK.findall(DOC):
        lines = [
            line
            for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        if lines and lines[0] == "version: 1":
            examples.append(block)
    return examples


EXAMPLES = _manifest_examples()


def test_the_schema_walk_reaches_nested_models() -> None:
    names = {model.__name__ for model in MODELS}
    assert {
        "Manifest",
        "Operator",
        "Contact",
        "Person",
        "Stream",
        "PurposeUse",
        "Automation",
    } <= names


@pytest.mark.parametrize(("model", "field"), FIELDS)
def test_every_field_is_documented(model: str, field: str) -> None:
    assert f"`{field}`" in DOC, f"docs/manifest.md does not mention `{field}` (a field of {model})"


@pytest.mark.parametrize("value", _choices())
def test_every_fixed_value_is_documented(value: str) -> None:
    assert f"`{value}`" in DOC, f"docs/manifest.md does not mention the allowed value `{value}`"


@pytest.mark.parametrize(("kind", "name"), TERMS)
def test_every_dpv_term_is_documented(kind: str, name: str) -> None:
    assert f"`{name}`" in DOC, f"docs/manifest.md does not list the DPV {kind} term `{name}`"


def test_the_doc_has_whole_manifest_examples() -> None:
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("text", EXAMPLES, ids=[f"example-{n}" for n in range(len(EXAMPLES))])
def test_every_whole_manifest_example_is_valid(text: str) -> None:
    loaded = load_manifest_text(text, file="docs/manifest.md example")
    assert loaded.manifest.version == 1
