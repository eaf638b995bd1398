"""`goodthings backup`: a consistent snapshot of the database, and a manifest saying when it was
taken and what the ledger's head was then. It holds no key: data keys live in the key vault
(`keys/data/`), so erasing a person after the backup reaches it without touching it.

A backup is a folder (mode 0700) of two files, each mode 0600:

* `goodthings.db` (SQLite, made with `VACUUM INTO`, which copies one read transaction's view
  and leaves freed pages behind) or `goodthings.pgdump` (PostgreSQL, `pg_dump --format=custom`
  of the deployment's schema, on a snapshot exported from the transaction that reads the head);
* `backup.json`: the format, when the snapshot was started, the database kind, the snapshot's
  SHA-256, and the ledger's head (seq and hash) inside the snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL

from goodthings.core import ledger
from goodthings.core.errors import DeploymentError

FORMAT = "goodthings backup v1"
MANIFEST_FILE = "backup.json"
SNAPSHOT_FILES = {"sqlite": "goodthings.db", "postgresql": "goodthings.pgdump"}


class BackupError(DeploymentError):
    """A backup cannot be taken, or a folder is not a backup that can be restored."""


@dataclass(frozen=True)
class BackupManifest:
    """What `backup.json` says about the snapshot beside it."""

    format: str
    taken_at: str
    """When the snapshot was started (ISO 8601, UTC): nothing later is in it."""
    database: str
    file: str
    sha256: str
    ledger_seq: int
    ledger_hash: str


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def take_backup(engine: Engine, destination: Path, progress: Progress = _quiet) -> BackupManifest:
    """Snapshot the database into `destination`, a folder that must not exist yet."""
    kind = engine.dialect.name
    if kind not in SNAPSHOT_FILES:
        raise BackupError(f"goodthings cannot back up a {kind} database")
    try:
        destination.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        raise BackupError(
            f"{destination} already exists; name a new folder (a backup never overwrites one)"
        ) from None
    snapshot = destination / SNAPSHOT_FILES[kind]
    _create_private(snapshot)
    taken_at = datetime.now(UTC).isoformat()
    progress(f"copying the {kind} database into {snapshot}")
    if kind == "sqlite":
        head = _snapshot_sqlite(engine, snapshot)
    else:
        head = _snapshot_postgres(engine, snapshot)
    progress("computing the snapshot's SHA-256")
    manifest = BackupManifest(
        FORMAT, taken_at, kind, snapshot.name, _sha256(snapshot), head.seq, head.hash
    )
    path = destination / MANIFEST_FILE
    _create_private(path)
    path.write_text(json.dumps(asdict(manifest), indent=2) + "\n", encoding="utf-8")
    return manifest


def read_backup(source: Path) -> BackupManifest:
    """The manifest of the backup in `source`, once its snapshot is found whole."""
    path = source / MANIFEST_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        manifest = BackupManifest(**data)
    except FileNotFoundError:
        raise BackupError(
            f"{source} is not a backup: there is no {MANIFEST_FILE} in it "
            "(make one with `goodthings backup DEST`)"
        ) from None
    except (ValueError, TypeError):
        raise BackupError(f"{path} is not a backup manifest (corrupt or edited)") from None
    if manifest.format != FORMAT or manifest.file != SNAPSHOT_FILES.get(manifest.database):
        raise BackupError(f"{path} is not a {FORMAT} manifest")
    snapshot = source / manifest.file
    if not snapshot.is_file():
        raise BackupError(f"the backup in {source} is missing its snapshot {manifest.file}")
    if _sha256(snapshot) != manifest.sha256:
        raise BackupError(
            f"{snapshot} is not the snapshot the manifest describes (its SHA-256 differs): "
            "the backup is corrupt or was changed"
        )
    return manifest


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """The database as pg_dump and pg_restore name it, and the environment that carries its
    password (never on the command line, where other users could see it)."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def postgres_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed; install the PostgreSQL client tools of the server's "
            "version to back up or restore a PostgreSQL deployment"
        )
    return found


def _snapshot_sqlite(engine: Engine, snapshot: Path) -> ledger.Head:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM INTO ?", (str(snapshot),))
    copy = create_engine(f"sqlite:///{snapshot}")
    try:
        with copy.connect() as connection:
            return ledger.head(connection)
    finally:
        copy.dispose()


def _snapshot_postgres(engine: Engine, snapshot: Path) -> ledger.Head:
    tool = postgres_tool("pg_dump")
    target, environment = libpq_url(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        # The head is read in the transaction whose snapshot pg_dump then uses: they agree.
        exported = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        head = ledger.head(connection)
        done = subprocess.run(  # noqa: S603 - a located tool and our own arguments
            [
                tool,
                "--format=custom",
                f"--snapshot={exported}",
                f"--schema={schema}",
                "--no-owner",
                f"--file={snapshot}",
                f"--dbname={target}",
            ],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        connection.rollback()
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[-1000:]}")
    return head


def _create_private(path: Path) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
