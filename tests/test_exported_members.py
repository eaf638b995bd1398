"""Every package has a public face: a docstring on what it is for and an `__all__` that is true.

As httpx's `tests/test_exported_members.py` does, the face is checked both ways: every name in
`__all__` exists, and every public name a package's `__init__` defines or takes from its own
modules is in `__all__` (a name imported only to be used there stays private by its `_`).
A package may also list its sub-packages or modules in `__all__` without loading them: that is
how a layer such as `goodthings.rights` shows its parts without importing them all.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import subprocess
import sys
import textwrap
from types import ModuleType

import pytest

import goodthings

PACKAGES = sorted(
    [goodthings.__name__]
    + [
        info.name
        for info in pkgutil.walk_packages(goodthings.__path__, f"{goodthings.__name__}.")
        if info.ispkg
    ]
)


def _package(name: str) -> ModuleType:
    return importlib.import_module(name)


def _is_submodule(package: str, name: str) -> bool:
    return importlib.util.find_spec(f"{package}.{name}") is not None


def unexported(source: str, package: str, exported: set[str]) -> list[str]:
    """Public names an `__init__` binds from its own package or defines, missing from `__all__`.

    Submodules bound by `from package import module` are namespaces the package already shows
    by being a package, so they need not be listed.
    """
    missing: list[str] = []
    for node in ast.parse(source).body:
        bound: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            own = node.module == package or node.module.startswith(f"{package}.")
            if own:
                for alias in node.names:
                    name = alias.asname or alias.name
                    if node.module == package and _is_submodule(package, alias.name):
                        continue
                    bound.append(name)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.append(node.name)
        elif isinstance(node, ast.Assign):
            bound += [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            bound.append(node.target.id)
        missing += [
            name
            for name in bound
            if not name.startswith("_") and name != "__all__" and name not in exported
        ]
    return missing


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_says_what_it_is_for(name: str) -> None:
    doc = inspect.getdoc(_package(name)) or ""
    assert len(doc.split()) >= 5, f"{name} needs a docstring saying what the package is for"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_package_has_a_public_face(name: str) -> None:
    face = getattr(_package(name), "__all__", None)
    assert isinstance(face, list), f"{name} has no __all__ listing its public names"
    assert all(isinstance(entry, str) for entry in face)
    assert len(face) == len(set(face)), f"{name}.__all__ lists a name twice"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_name_in_a_face_exists(name: str) -> None:
    package = _package(name)
    missing = [
        entry
        for entry in package.__all__
        if not hasattr(package, entry) and not _is_submodule(name, entry)
    ]
    assert missing == [], f"{name}.__all__ names what it does not have: {missing}"


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_a_face_binds_is_exported(name: str) -> None:
    package = _package(name)
    source = inspect.getsource(package)
    assert unexported(source, name, set(package.__all__)) == [], (
        f"{name}/__init__.py binds public names that its __all__ does not list"
    )


def test_the_face_check_names_a_re_export_left_out_of_all() -> None:
    source = textwrap.dedent(
        """
        from goodthings.core.manifest.loader import load_manifest, load_manifest_text
        from goodthings.core.manifest import loader
        from goodthings.core.errors import ManifestError
        from goodthings.core.manifest.schema import Manifest as _Manifest
        LIMIT = 3
        def helper() -> None: ...
        """
    )
    missing = unexported(source, "goodthings.core.manifest", {"load_manifest"})
    assert missing == ["load_manifest_text", "LIMIT", "helper"]


_IMPORT_EACH_FRESH = """
import importlib, pkgutil, sys
import goodthings

def fresh(name):
    for loaded in [m for m in sys.modules if m == "goodthings" or m.startswith("goodthings.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        print(f"{name}: {type(exc).__name__}: {exc}")
    return {m for m in sys.modules if m.startswith("goodthings.")}

names = [
    info.name
    for info in pkgutil.walk_packages(goodthings.__path__, "goodthings.")
    if info.name.rpartition(".")[2] != "__main__"
]
loaded_with = {"goodthings": fresh("goodthings")}
for name in names:
    parent = name.rpartition(".")[0]
    if name in loaded_with.get(parent, ()):
        loaded_with[name] = loaded_with[parent]
    else:
        loaded_with[name] = fresh(name)
"""


def test_every_module_imports_cleanly_as_the_first_one_imported() -> None:
    # An import cycle only shows when the import starts at the wrong end, so each module is
    # imported into an interpreter that has loaded none of goodthings yet. A module its
    # package's __init__ already loads is covered by importing the package (`__main__` runs the
    # CLI, so it is left out).
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", _IMPORT_EACH_FRESH],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", f"modules that fail to import on their own:\n{done.stdout}"
