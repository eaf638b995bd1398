"""The rights, the policy and the core sit below the portal: none of them imports it, so the
portal's read models can change without reaching into erasure, export or the gate."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "goodthings"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", ["rights", "policy", "core"])
def test_no_module_of_the_layer_imports_the_portal(layer: str) -> None:
    upward = {
        str(path.relative_to(SOURCE)): sorted(
            name for name in _imports(path) if name.startswith("goodthings.portal")
        )
        for path in sorted((SOURCE / layer).rglob("*.py"))
    }
    assert {module: names for module, names in upward.items() if names} == {}
