"""Load a manifest and report every mistake with its file, line and field.

A mistake is a Problem in a ManifestError; what is accepted but should change (a pre-release DPV
spelling) is a Problem in `LoadedManifest.warnings`, located the same way.
"""

from __future__ import annotations

import hashlib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from goodthings.core.errors import ManifestError, Problem
from goodthings.core.manifest.checks import check
from goodthings.core.manifest.renames import follow_renames
from goodthings.core.manifest.schema import Manifest
from goodthings.core.manifest.source import Located, load_yaml, read_text


@dataclass(frozen=True)
class LoadedManifest:
    """A valid manifest with the hash of the exact bytes it came from."""

    manifest: Manifest
    source: str
    sha256: str
    text: str
    warnings: tuple[Problem, ...] = ()
    """What was accepted but should be changed, such as a pre-release DPV name."""


def load_manifest(path: Path) -> LoadedManifest:
    """Parse and validate `path`; raise ManifestError listing every problem found, files it
    names (a model's SBOM) that are not beside it included."""
    text = read_text(path)
    return _validated(load_yaml(text, str(path)), text, path.parent)


def load_manifest_text(text: str, file: str = "goodthings.yaml") -> LoadedManifest:
    return _validated(load_yaml(text, file), text)


def _validated(located: Located, text: str, directory: Path | None = None) -> LoadedManifest:
    data, renamed = follow_renames(located.data)
    warnings = tuple(located.problem(path, message) for path, message in renamed)
    try:
        manifest = Manifest.model_validate(data, context={"languages": _languages(data)})
    except ValidationError as exc:
        raise ManifestError([_problem(located, error) for error in exc.errors()]) from None
    findings = check(manifest)
    if directory is not None:
        findings += _missing_files(manifest, directory)
    if findings:
        raise ManifestError([located.problem(path, message) for path, message in findings])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedManifest(manifest, located.file, digest, text, warnings)


def _languages(data: Any) -> list[str]:
    """The deployment's languages as written, so a text given by language takes its words in
    the first one as its default (a wrong list is reported by the schema, not here)."""
    deployment = data.get("deployment") if isinstance(data, dict) else None
    languages = deployment.get("languages") if isinstance(deployment, dict) else None
    if isinstance(languages, list) and languages and all(isinstance(c, str) for c in languages):
        return languages
    return ["en"]


def _missing_files(manifest: Manifest, directory: Path) -> list[tuple[tuple[str | int, ...], str]]:
    """Files the manifest names that are not in the deployment directory."""
    missing: list[tuple[tuple[str | int, ...], str]] = []
    for m, model in enumerate(manifest.device_models):
        if model.sbom is None:
            continue
        path = directory / model.sbom
        if not path.is_file():
            message = (
                f"there is no file {model.sbom!r} in the deployment directory ({path}); "
                "put the model's SBOM there or fix the path"
            )
        elif not path.resolve().is_relative_to(directory.resolve()):
            message = f"{model.sbom!r} is a link to a file outside the deployment directory"
        else:
            continue
        missing.append((("device_models", m, "sbom"), message))
    return missing


def _problem(located: Located, error: ErrorDetails) -> Problem:
    path = tuple(error["loc"])
    kind = error["type"]
    if kind == "missing":
        message = "this field is required" + _described(path)
    elif kind == "extra_forbidden":
        valid = ", ".join(_fields_at(path[:-1])) or "none"
        message = f"unknown field {path[-1]!r}; valid fields here are: {valid}"
    elif kind == "value_error":
        message = error["msg"].removeprefix("Value error, ")
    elif kind in {"enum", "literal_error"}:
        message = f"{error['input']!r} is not allowed; {error['msg'].lower()}"
    else:
        message = f"{error['msg']} (got {error['input']!r})"
    return located.problem(path, message)


def _model_at(path: tuple[int | str, ...]) -> type[BaseModel] | None:
    """Follow a validation path through the schema to the model that holds its last key."""
    current: Any = Manifest
    for part in path:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """`X | None` → X, so optional sections can be followed too."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else annotation
    return annotation


def _fields_at(path: tuple[int | str, ...]) -> list[str]:
    model = _model_at(path)
    return list(model.model_fields) if model else []


def _described(path: tuple[int | str, ...]) -> str:
    model = _model_at(path[:-1])
    if model is None or not isinstance(path[-1], str):
        return ""
    field = model.model_fields.get(path[-1])
    doc = field.description if field else None
    return f" ({doc})" if doc else ""
