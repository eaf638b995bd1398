"""Open the database (SQLite by default, PostgreSQL by URL) and bring its schema up to date."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from goodthings.core.errors import StoreError

if TYPE_CHECKING:  # alembic (with Mako and Pygments, ~10 MiB) loads only to migrate
    from alembic.config import Config

_REVISION = re.compile(r"^revision(?:\s*:\s*str)?\s*=\s*[\"']([^\"']+)[\"']\s*$", re.M)
_DOWN_REVISION = re.compile(
    r"^down_revision(?:\s*:[^=]+)?\s*=\s*(?:None|[\"']([^\"']+)[\"'])\s*$", re.M
)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """Accept the URL people write (`postgresql://…`) and pick the driver we ship (psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def open_engine(url: str) -> Engine:
    """An engine for `url`, with SQLite tuned for a small always-on hub (WAL, foreign keys)."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as exc:
        raise StoreError(f"the database URL {url!r} is not valid: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreError(
            f"goodthings supports SQLite and PostgreSQL, not {parsed.get_backend_name()!r}"
        )
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web pages read while ingest writes; NORMAL sync is durable against a
    # process crash (each commit is in the WAL) and loses at most the last commits on power loss.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(files("goodthings.core.store") / "migrations"))
    return config


def migrate(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration, in one transaction.

    A database already at the newest migration (every start but the first after an upgrade)
    is left alone without loading alembic: a `serve` worker would otherwise carry it all its
    life for nothing."""
    if _at_head(engine):
        return
    from alembic import command

    config = _alembic_config()
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except OperationalError as exc:
        raise StoreError(f"cannot reach the database {engine.url!r}: {exc.orig}") from None


def schema_is_current(engine: Engine) -> bool:
    """Whether the database has every migration applied (the hub refuses to run on an old schema)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current == head


@cache
def _head_revision() -> str | None:
    """The newest migration's revision, read from the migration files' own `revision` and
    `down_revision` lines; None when a file says it in any other way (a merge, a computed
    value), and then alembic decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in Path(str(files("goodthings.core.store") / "migrations" / "versions")).glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, parent = _REVISION.findall(source), _DOWN_REVISION.search(source)
        if len(revision) != 1 or parent is None:
            return None
        revisions.add(revision[0])
        if parent.group(1):
            parents.add(parent.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """Whether the database's recorded revision is the newest migration (False when unsure)."""
    head = _head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no alembic_version table yet: a new database
        return False
    return [row[0] for row in rows] == [head]
