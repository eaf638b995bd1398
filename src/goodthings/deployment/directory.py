"""Create and open deployment directories: the manifest, the database and the keys together."""

from __future__ import annotations

import os
import shutil
from importlib.resources import files
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from goodthings.core.config import DATABASE_FILE, Home, Stored, shown_url, write_stored
from goodthings.core.errors import DeploymentError
from goodthings.core.keys import KeyVault, catch_up, create_keys, move_keys_out
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
    """Make a working deployment in `home.root` from an example; never overwrites one.

    Its settings file records the database and public address it was made with, so that
    every later command runs on them without being told again.
    """
    text = example_text(example)
    if home.manifest_path.exists() or home.keys_dir.exists() or home.settings_path.exists():
        raise DeploymentError(
            f"{home.root} already holds a deployment; choose an empty directory "
            "(goodthings never overwrites a manifest or a key)"
        )
    home.root.mkdir(parents=True, exist_ok=True)
    try:
        home.manifest_path.write_text(text, encoding="utf-8")
        write_stored(home.root, Stored(home.database_url_override, home.settings.public_url))
        create_keys(home.keys_dir)
        engine = _open(home, create=True)
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
    home.settings_path.unlink(missing_ok=True)
    if home.keys_dir.exists():
        shutil.rmtree(home.keys_dir)
    if home.database_url_override is None:
        for suffix in ("", "-wal", "-shm"):
            (home.root / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)


def open_store(home: Home) -> Engine:
    """The deployment's database, upgraded to the current schema, with every checkpoint signed
    through it also written to the deployment's witness file, with no data key left in it
    (an older version's keys are moved to the key vault), and holding every change of the
    signing key that `keys/` kept (a database restored from before one takes it over).

    A database that should be there and is not (a missing SQLite file, an empty PostgreSQL
    database) is an error, not a new empty database that `apply` would fill again from the
    manifest.
    """
    return _open(home, create=False)


def _open(home: Home, *, create: bool) -> Engine:
    if home.database_url_override is None and not home.root.is_dir():
        raise DeploymentError(
            f"{home.root} is not a deployment directory; create one with `goodthings init DIR`"
        )
    sqlite_file = _sqlite_file(home.database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        if not create and home.keys_dir.exists():
            raise DeploymentError(_missing_database(home, sqlite_file))
        _create_private(sqlite_file)
    engine = open_engine(home.database_url)
    if not create and home.keys_dir.exists() and not _holds_a_deployment(engine):
        engine.dispose()
        raise DeploymentError(_empty_database(home))
    migrate(engine)
    move_keys_out(engine, KeyVault.of(home))
    attach_witness(engine, home.witness_path)
    if home.keys_dir.exists():
        catch_up(home.keys_dir, engine)
    return engine


def _holds_a_deployment(engine: Engine) -> bool:
    """Whether goodthings ever set this database up: `init` leaves Alembic's version table."""
    with engine.connect() as connection:
        return inspect(connection).has_table("alembic_version")


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (`None` for another database, or SQLite in memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # open_engine says what is wrong with it
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _missing_database(home: Home, path: Path) -> str:
    return (
        f"the database of the deployment in {home.root} is missing: it runs on "
        f"{shown_url(home.database_url)} ({_where(home)}), and {path} does not exist; restore it "
        "from a backup, or, if the deployment's database is elsewhere, say where with "
        "`goodthings deployment set database URL`"
    )


def _empty_database(home: Home) -> str:
    return (
        f"the deployment in {home.root} has been set up, but its database "
        f"{shown_url(home.database_url)} ({_where(home)}) holds no goodthings deployment: "
        "nothing was changed. Restore the database from a backup, or point the deployment at "
        "the database it was set up in with `goodthings deployment set database URL`; to start "
        "afresh, make a new deployment with `goodthings init DIR`"
    )


def _where(home: Home) -> str:
    if home.stored is not None:
        return f"as {home.settings_path} says"
    if home.database_url_override is None:
        return "the embedded default"
    return "as GOODTHINGS_DATABASE_URL says"


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
