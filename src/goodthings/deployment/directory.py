"""Create and open deployment directories: the manifest, the database and the keys together."""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine

from goodthings.core.config import DATABASE_FILE, Home
from goodthings.core.errors import DeploymentError
from goodthings.core.keys import KeyVault, create_keys, move_keys_out
from goodthings.core.ledger import attach_witness
from goodthings.core.manifest import load_manifest
from goodthings.core.store import migrate, open_engine
from goodthings.deployment.apply import ApplyResult, apply_manifest

EXAMPLES: tuple[str, ...] = ("smart-home", "care-home", "city-street")


def example_text(name: str) -> str:
    """The manifest of a bundled example deployment."""
    if name not in EXAMPLES:
        raise DeploymentError(f"there is no example {name!r}; choose one of: {', '.join(EXAMPLES)}")
    return (files("goodthings") / "examples" / f"{name}.yaml").read_text(encoding="utf-8")


def init_deployment(home: Home, example: str) -> ApplyResult:
    """Make a working deployment in `home.root` from an example; never overwrites one."""
    text = example_text(example)
    if home.manifest_path.exists() or home.keys_dir.exists():
        raise DeploymentError(
            f"{home.root} already holds a deployment; choose an empty directory "
            "(goodthings never overwrites a manifest or a key)"
        )
    home.root.mkdir(parents=True, exist_ok=True)
    try:
        home.manifest_path.write_text(text, encoding="utf-8")
        create_keys(home.keys_dir)
        engine = open_store(home)
        try:
            return apply_manifest(engine, load_manifest(home.manifest_path))
        finally:
            engine.dispose()
    except BaseException:
        _remove_partial(home)
        raise


def _remove_partial(home: Home) -> None:
    """Undo a failed init, so that running it again starts from an empty directory."""
    home.manifest_path.unlink(missing_ok=True)
    if home.keys_dir.exists():
        shutil.rmtree(home.keys_dir)
    if home.database_url_override is None:
        for suffix in ("", "-wal", "-shm"):
            (home.root / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)


def open_store(home: Home) -> Engine:
    """The deployment's database, created or upgraded to the current schema, with every
    checkpoint signed through it also written to the deployment's witness file, and with no
    data key left in it (an older version's keys are moved to the key vault)."""
    if home.database_url_override is None and not home.root.is_dir():
        raise DeploymentError(
            f"{home.root} is not a deployment directory; create one with `goodthings init DIR`"
        )
    if home.database_url_override is None:
        _create_private(home.root / DATABASE_FILE)
    engine = open_engine(home.database_url)
    migrate(engine)
    move_keys_out(engine, KeyVault.of(home))
    attach_witness(engine, home.witness_path)
    return engine


def _create_private(path: Path) -> None:
    """Create the SQLite file as 0600 before SQLite does: it holds names and contacts, and
    SQLite gives its WAL and shared-memory files the same mode as the database."""
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def manifest_path(home: Home, path: Path | None = None) -> Path:
    """The manifest to use: an explicit path, else the deployment's own."""
    chosen = path or home.manifest_path
    if not chosen.exists():
        raise DeploymentError(
            f"there is no manifest at {chosen}; run `goodthings init DIR` or pass --home DIR"
        )
    return chosen
