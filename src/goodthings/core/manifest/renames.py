"""Read pre-release DPV spellings as the released terms, and say so.

Manifests written before DPV 2.2 may name `Behavioral` or `RightsFulfillment`, which the
released vocabulary spells `Behavioural` and `RightsFulfilment`. Refusing them would break a
working deployment over spelling; keeping them would publish IRIs that do not exist. So the
loader reads each as its released term and warns where it was written, naming the new one.
"""

from __future__ import annotations

from typing import Any

from goodthings.core.manifest.checks import Finding
from goodthings.core.manifest.released import RELEASE
from goodthings.core.manifest.vocabulary import RENAMED

__all__ = ["follow_renames"]

_TERM_KEYS = frozenset({"purpose", "legal_basis", "data_category"})
"""Keys whose value is one DPV term (a stream's purposes, bases, category; a share's purpose)."""
_TERM_LISTS = frozenset({"purposes"})
"""Keys whose value may be a list of DPV terms (an application's purposes)."""


def follow_renames(data: Any) -> tuple[Any, list[Finding]]:
    """`data` with every old spelling replaced by its released term, and where each was."""
    findings: list[Finding] = []
    return _walk(data, (), findings), findings


def _walk(value: Any, path: tuple[str | int, ...], findings: list[Finding]) -> Any:
    if isinstance(value, dict):
        return {key: _member(key, item, (*path, key), findings) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, (*path, index), findings) for index, item in enumerate(value)]
    return value


def _member(key: Any, value: Any, path: tuple[str | int, ...], findings: list[Finding]) -> Any:
    if key in _TERM_KEYS and isinstance(value, str):
        return _renamed(value, path, findings)
    if key in _TERM_LISTS and isinstance(value, list):
        return [
            _renamed(item, (*path, index), findings)
            if isinstance(item, str)
            else _walk(item, (*path, index), findings)
            for index, item in enumerate(value)
        ]
    return _walk(value, path, findings)


def _renamed(name: str, path: tuple[str | int, ...], findings: list[Finding]) -> str:
    new = RENAMED.get(name)
    if new is None:
        return name
    findings.append(
        (
            path,
            f"{name!r} is a pre-release DPV name; DPV {RELEASE.version} calls it {new!r}: "
            f"write {new} (read as {new} for now)",
        )
    )
    return new
