"""Backups and erasure: a backup holds no key, so a person erased after it was taken stays
unreadable in it, whether it comes back through `goodthings restore` or by hand; a restore
re-applies the erasure before the hub serves, and everyone else's readings come back intact.

Each test runs on SQLite and on PostgreSQL (pg_dump and pg_restore).
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cli_helpers import run
from goodthings.core import ledger
from goodthings.core.config import DATABASE_FILE, Home
from goodthings.core.keys import (
    SIGNING_PUBLIC_KEY,
    UNREADABLE,
    Keyring,
    KeyVault,
    ReadingOpener,
    load_master_key,
    load_public_key,
)
from goodthings.core.store import Selection, open_engine, select_readings
from goodthings.core.store import tables as t
from goodthings.deployment import (
    BackupError,
    open_store,
    read_backup,
    restore_backup,
    take_backup,
)
from goodthings.deployment.backup import libpq_url
from goodthings.rights.erasure import erase_subject
from goodthings.rights.export import export_subject
from goodthings.runtime.hub import Hub
from portal_helpers import give, send
from templates import init_from_template

HEARTS = [171.4589, 183.2297, 166.7713]
POWER = [512.5, 498.25]


def _prepare(hub: Hub) -> None:
    give(
        hub,
        ("alex", "heart_rate", "ServicePersonalisation"),
        ("alex", "power", "OptimisationForConsumer"),
        ("sam", "power", "OptimisationForConsumer"),
    )
    assert send(hub, "band-alex", "heart_rate", HEARTS) == len(HEARTS)
    assert send(hub, "meter-1", "power", POWER) == len(POWER)


def _opened(engine: Engine, home: Home, subject: str | None, device: str) -> list[object]:
    """What a keyring made afresh from the deployment's keys opens: another process."""
    keyring = Keyring(load_master_key(home.keys_dir), KeyVault.of(home))
    with engine.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        rows = select_readings(connection, Selection(subject_id=subject))
        return [opener.open(row) for row in rows if row.device_id == device]


def _exported_rows(hub: Hub, subject: str) -> str:
    out = io.BytesIO()
    export_subject(hub.engine, hub.keyring, hub.signer, subject, out)
    return zipfile.ZipFile(out).read("readings.csv").decode()


def _ledger_intact(hub: Hub) -> None:
    key = load_public_key(hub.home.keys_dir / SIGNING_PUBLIC_KEY)
    result = ledger.check(hub.engine, key)
    assert result.ok, result.reason


def _backup_then_erase_alex(hub: Hub, destination: Path) -> None:
    _prepare(hub)
    take_backup(hub.engine, destination)
    erase_subject(hub.engine, hub.keyring, hub.signer, "alex")
    hub.close()


def _put_back_by_hand(home: Home, backup: Path) -> None:
    """What an operator might do with their own tools, bypassing `goodthings restore`."""
    if home.database_url_override is None:
        for suffix in ("-wal", "-shm"):
            (home.root / f"{DATABASE_FILE}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup / "goodthings.db", home.root / DATABASE_FILE)
        return
    engine = open_engine(home.database_url)
    target, environment = libpq_url(engine.url)
    with engine.begin() as connection:  # the dump creates its schema again
        schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    engine.dispose()
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            f"--dbname={target}",
            str(backup / "goodthings.pgdump"),
        ],
        env=environment,
        check=True,
        capture_output=True,
    )


def test_a_restore_reapplies_an_erasure_made_after_the_backup(
    smart_home: Hub, tmp_path: Path
) -> None:
    _backup_then_erase_alex(smart_home, tmp_path / "backup")
    restored = restore_backup(smart_home.home, tmp_path / "backup")
    assert restored.erasures_reapplied == 1
    hub = Hub.open(smart_home.home)
    try:
        assert _opened(hub.engine, hub.home, "alex", "band-alex") == []
        assert _opened(hub.engine, hub.home, None, "meter-1") == POWER
        assert "heart_rate" not in _exported_rows(hub, "alex")
        assert "power" in _exported_rows(hub, "sam")
        with hub.engine.connect() as connection:
            name = connection.execute(
                select(t.subjects.c.name).where(t.subjects.c.id == "alex")
            ).scalar_one()
            sams = connection.execute(
                select(t.subjects.c.name).where(t.subjects.c.id == "sam")
            ).scalar_one()
        assert name == "(erased)" and sams != "(erased)"
        assert send(hub, "band-alex", "heart_rate", [99.0]) == 0, "no consent came back"
        _ledger_intact(hub)
    finally:
        hub.close()


def test_a_backup_put_back_by_hand_does_not_open_the_erased_persons_readings(
    smart_home: Hub, tmp_path: Path
) -> None:
    home = smart_home.home
    _backup_then_erase_alex(smart_home, tmp_path / "backup")
    _put_back_by_hand(home, tmp_path / "backup")
    engine = open_engine(home.database_url)
    try:
        # The ciphertext is back, but no key in the deployment opens it.
        assert _opened(engine, home, "alex", "band-alex") == [UNREADABLE] * len(HEARTS)
        assert _opened(engine, home, None, "meter-1") == POWER
    finally:
        engine.dispose()
    # And the hub re-applies the erasure before it serves anything.
    hub = Hub.open(home)
    try:
        assert _opened(hub.engine, home, "alex", "band-alex") == []
        assert _opened(hub.engine, home, None, "meter-1") == POWER
        _ledger_intact(hub)
    finally:
        hub.close()


def test_the_whole_deployment_put_back_by_hand_keeps_the_erased_person_unreadable(
    smart_home: Hub, tmp_path: Path
) -> None:
    """The operator's old copy of keys/ too: the erasure journal, kept beside them, wins."""
    home = smart_home.home
    _prepare(smart_home)
    shutil.copytree(home.keys_dir, tmp_path / "keys-before")
    take_backup(smart_home.engine, tmp_path / "backup")
    erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    smart_home.close()
    shutil.rmtree(home.keys_dir)
    shutil.copytree(tmp_path / "keys-before", home.keys_dir)
    _put_back_by_hand(home, tmp_path / "backup")
    engine = open_engine(home.database_url)
    try:
        assert _opened(engine, home, "alex", "band-alex") == [UNREADABLE] * len(HEARTS)
        assert _opened(engine, home, None, "meter-1") == POWER
    finally:
        engine.dispose()


def test_the_witness_reports_the_rollback_a_restore_is(smart_home: Hub, tmp_path: Path) -> None:
    _prepare(smart_home)
    take_backup(smart_home.engine, tmp_path / "backup")
    erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    assert ledger.sign_head(smart_home.engine, smart_home.signer) is not None
    smart_home.close()
    restore_backup(smart_home.home, tmp_path / "backup")
    engine = open_engine(smart_home.home.database_url)
    try:
        key = load_public_key(smart_home.home.keys_dir / SIGNING_PUBLIC_KEY)
        assert ledger.check(engine, key).ok
        witnessed = ledger.check(
            engine, key, witness=ledger.read_witness(smart_home.home.witness_path)
        )
        assert not witnessed.ok and "witness" in str(witnessed.reason)
    finally:
        engine.dispose()


def test_a_backup_is_private_and_says_when_it_was_taken_and_the_ledger_head(
    smart_home: Hub, tmp_path: Path
) -> None:
    _prepare(smart_home)
    manifest = take_backup(smart_home.engine, tmp_path / "backup")
    with smart_home.engine.connect() as connection:
        head = ledger.head(connection)
    assert (manifest.ledger_seq, manifest.ledger_hash) == (head.seq, head.hash)
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o700
    for path in (tmp_path / "backup").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert read_backup(tmp_path / "backup") == manifest
    wrapped = smart_home.keyring.vault.read("alex")
    assert wrapped is not None
    assert wrapped not in (tmp_path / "backup" / manifest.file).read_bytes(), "it holds no key"
    with pytest.raises(BackupError, match="already exists"):
        take_backup(smart_home.engine, tmp_path / "backup")


def test_a_missing_or_corrupt_backup_is_refused_before_anything_changes(
    smart_home: Hub, tmp_path: Path
) -> None:
    home = smart_home.home
    backup = tmp_path / "backup"
    with pytest.raises(BackupError, match=r"there is no backup\.json"):
        restore_backup(home, tmp_path)
    manifest = take_backup(smart_home.engine, backup)
    snapshot = backup / manifest.file
    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2] ^= 1
    snapshot.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="SHA-256 differs"):
        restore_backup(home, backup)
    snapshot.unlink()
    with pytest.raises(BackupError, match="missing its snapshot"):
        restore_backup(home, backup)
    (backup / "backup.json").write_text("{not json")
    with pytest.raises(BackupError, match="not a backup manifest"):
        restore_backup(home, backup)
    _ledger_intact(smart_home)


def test_backup_and_restore_commands(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    home: Home,
    tmp_path: Path,
) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        _backup_then_erase_alex(hub, tmp_path / "taken-by-hand")
    finally:
        hub.close()
    ran = run(capsys, "backup", str(tmp_path / "backup"), "--home", str(home.root))
    assert ran.code == 0, ran
    assert "ledger seq" in ran.out and "holds no key" in ran.out
    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert manifest["database"] == "sqlite" and manifest["taken_at"]
    restore = ["restore", str(tmp_path / "taken-by-hand"), "--home", str(home.root)]
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    ran = run(capsys, *restore)
    assert ran.code == 1 and "Replace the database" in ran.out
    ran = run(capsys, *restore, "--yes")
    assert ran.code == 0, ran
    assert "re-applied: 1" in ran.out
    ran = run(capsys, "restore", str(tmp_path / "nothing"), "--home", str(home.root))
    assert ran.code == 1 and "there is no backup.json" in ran.err


def test_without_the_postgresql_client_tools_a_backup_says_what_to_install(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(tmp_path / "deployment", postgres_url)
    init_from_template(home, "smart-home")
    engine = open_store(home)
    monkeypatch.setenv("PATH", str(tmp_path))
    try:
        with pytest.raises(BackupError, match="pg_dump is not installed"):
            take_backup(engine, tmp_path / "backup")
    finally:
        engine.dispose()
