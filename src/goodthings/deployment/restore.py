"""`goodthings restore`: put a backup's database back, then re-apply every erasure made since.

The erasure journal (`erasures.jsonl`, `goodthings.core.keys.vault`) is not rolled back with the
database, so it knows every key destroyed after the backup was taken. Each journal line whose
key the restored database does not know as destroyed is an erasure to re-apply: the person is
found by their keyed hash and erased again (consents withdrawn, readings purged, name blanked,
a fresh receipt), before anything is served. Their readings were unreadable even before that,
since the key file is gone; re-applying removes the ciphertext and the rest.

`Hub.open` runs the same re-application, so a database put back by hand (a file copy or
pg_restore, bypassing `goodthings restore`) is also made to forget before the hub serves.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, select

from goodthings.core import ledger
from goodthings.core.config import DATABASE_FILE, Home
from goodthings.core.keys import Keyring, KeyVault, load_master_key, load_signing_key
from goodthings.core.store import open_engine
from goodthings.core.store import tables as t
from goodthings.deployment.backup import (
    BackupError,
    BackupManifest,
    Progress,
    libpq_url,
    postgres_tool,
    read_backup,
)
from goodthings.deployment.directory import open_store
from goodthings.rights.erasure import ErasureError, erase_subject


@dataclass(frozen=True)
class Restored:
    backup: BackupManifest
    erasures_reapplied: int


def _quiet(_: str) -> None:
    return None


def restore_backup(home: Home, source: Path, progress: Progress = _quiet) -> Restored:
    """Replace the deployment's database with the backup in `source`; the hub must be stopped."""
    manifest = read_backup(source)
    if home.database_url_override is None and not home.root.is_dir():
        raise BackupError(f"{home.root} is not a deployment directory to restore into")
    # The keys first: a deployment without them is refused before its database is replaced.
    master = load_master_key(home.keys_dir)
    signer = load_signing_key(home.keys_dir)
    target = open_engine(home.database_url)
    kind = target.dialect.name
    target.dispose()
    if kind != manifest.database:
        raise BackupError(
            f"the backup in {source} is of a {manifest.database} database, "
            f"but this deployment uses {kind}"
        )
    progress(f"putting back the database of {manifest.taken_at} (ledger seq {manifest.ledger_seq})")
    if kind == "sqlite":
        _put_back_sqlite(home, source / manifest.file)
    else:
        _put_back_postgres(home, source / manifest.file)
    engine = open_store(home)
    try:
        keyring = Keyring(master, KeyVault.of(home))
        progress("re-applying the erasures made since the backup was taken")
        count = reapply_erasures(engine, keyring, signer)
        with engine.begin() as connection:
            ledger.append(
                connection,
                signer,
                actor="operator",
                action="backup.restore",
                target="deployment",
                counts={"backup_seq": manifest.ledger_seq, "erasures_reapplied": count},
            )
    finally:
        engine.dispose()
    return Restored(manifest, count)


def reapply_erasures(engine: Engine, keyring: Keyring, signer: Ed25519PrivateKey) -> int:
    """Erase again everyone whose key the journal says was destroyed but the database does not;
    returns how many journal lines were re-applied."""
    journal = keyring.vault.erased()
    if not journal:
        return 0
    with engine.connect() as connection:
        known = set(connection.execute(select(t.destroyed_keys.c.fingerprint)).scalars())
        missing = [erased for erased in journal if erased.fingerprint not in known]
        if not missing:
            return 0
        subjects = {
            keyring.tag(subject): subject
            for subject in connection.execute(select(t.subjects.c.id)).scalars()
        }
    for erased in missing:
        subject = subjects.get(erased.holder_tag)
        with engine.begin() as connection:
            # Recorded first, so every process forgets the key (it is gone from the vault anyway).
            connection.execute(
                insert(t.destroyed_keys).values(
                    holder=subject or erased.holder_tag,
                    fingerprint=erased.fingerprint,
                    destroyed_at=datetime.now(UTC),
                )
            )
        # Already erased in the restored database (ErasureError): nothing of them to remove.
        if subject is not None:
            with contextlib.suppress(ErasureError):
                erase_subject(engine, keyring, signer, subject, method="restore")
    return len(missing)


def _put_back_sqlite(home: Home, snapshot: Path) -> None:
    if home.database_url_override is not None:
        raise BackupError("this deployment's database is not its own SQLite file")
    database = home.root / DATABASE_FILE
    handle, temporary = tempfile.mkstemp(dir=home.root, prefix=".restore-")  # mode 0600
    try:
        with os.fdopen(handle, "wb") as out, snapshot.open("rb") as data:
            for block in iter(lambda: data.read(1 << 20), b""):
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        # The old WAL must not be replayed onto the restored file.
        for suffix in ("-wal", "-shm"):
            (home.root / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)
        Path(temporary).replace(database)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _put_back_postgres(home: Home, dump: Path) -> None:
    """Replace the deployment's tables with the dump's, in one transaction.

    Not `pg_restore --clean`: it drops each object of the dump one by one, and PostgreSQL refuses
    to drop a constraint a partition inherits from the partitioned readings table. Here the
    schema's tables are dropped whole (CASCADE takes their partitions, sequences and indexes)
    and the dump, less its CREATE SCHEMA, is replayed by psql in the same transaction: a
    failure leaves the database as it was."""
    restore_tool = postgres_tool("pg_restore")
    engine = open_engine(home.database_url)
    target, environment = libpq_url(engine.url)
    engine.dispose()
    listed = _run(restore_tool, ["--list", str(dump)], environment)
    entries = [line for line in listed.splitlines() if not _TOC_SCHEMA.match(line)]
    schemas = {m.group(1) for line in entries if (m := _TOC_TABLE.match(line))}
    if len(schemas) != 1:
        raise BackupError(f"the dump {dump} holds tables of {len(schemas)} schemas, not one")
    (schema,) = schemas
    with tempfile.NamedTemporaryFile("w", suffix=".list") as chosen:
        chosen.write("\n".join(entries) + "\n")
        chosen.flush()
        script = _run(
            restore_tool,
            ["--no-owner", f"--use-list={chosen.name}", "--file=-", str(dump)],
            environment,
        )
    _run(
        postgres_tool("psql"),
        ["--single-transaction", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={target}"],
        environment,
        stdin=_drop_tables(schema) + script,
    )


_TOC_SCHEMA = re.compile(r"^\d+; \d+ \d+ SCHEMA ")
_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA |ATTACH )(\S+) ")


def _drop_tables(schema: str) -> str:
    """SQL dropping every table of `schema` (a partitioned one takes its partitions with it)."""
    quoted = schema.replace("'", "''")
    return (
        "DO $$ DECLARE r record; BEGIN\n"  # noqa: S608 - a schema name from our own dump, quoted as a literal
        "  FOR r IN SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n"
        f"    WHERE n.nspname = '{quoted}' AND c.relkind IN ('r', 'p') AND NOT c.relispartition\n"
        "  LOOP\n"
        f"    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', '{quoted}', r.relname);\n"
        "  END LOOP;\n"
        "END $$;\n"
    )


def _run(
    tool: str, arguments: list[str], environment: dict[str, str], stdin: str | None = None
) -> str:
    done = subprocess.run(  # noqa: S603 - a located tool and our own arguments
        [tool, *arguments],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        name = Path(tool).name
        raise BackupError(f"{name} failed while restoring: {done.stderr.strip()[-1000:]}")
    return done.stdout
