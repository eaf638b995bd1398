"""The key vault: data keys in files of their own, outside the database, and a journal of the
erased ones that a copy of `keys/` put back cannot get around."""

from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from goodthings.core.keys import (
    Keyring,
    KeyVault,
    fingerprint,
    journal_older_erasures,
    move_keys_out,
)
from goodthings.core.store import tables as t
from goodthings.core.store.engine import migrate, open_engine

MASTER = os.urandom(32)


def _vault(root: Path) -> KeyVault:
    return KeyVault(root / "keys" / "data", root / "erasures.jsonl")


def test_key_files_and_the_journal_are_private(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.create("alex", b"wrapped")
    assert vault.destroy("alex", "tag") == fingerprint(b"wrapped")
    vault.create("sam", b"other")
    (key,) = vault.directory.iterdir()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(vault.journal.stat().st_mode) == 0o600
    assert "sam" not in key.name, "file names do not say whose key it is"


def test_the_first_key_stored_for_a_holder_wins(tmp_path: Path) -> None:
    first, second = _vault(tmp_path), _vault(tmp_path)
    assert first.create("alex", b"one") == b"one"
    assert second.create("alex", b"two") == b"one"
    assert second.read("alex") == b"one"
    assert list(first.directory.glob(".new-*")) == []


def test_the_journal_names_nobody_and_records_each_destroyed_key(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    keyring = Keyring(MASTER, vault)
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    with engine.begin() as connection:
        keyring.load(connection, ["alex"], create=True)
        wrapped = vault.read("alex")
        assert keyring.shred(connection, "alex") == 1
    assert wrapped is not None
    lines = [json.loads(line) for line in vault.journal.read_text().splitlines()]
    assert lines == [
        {"at": lines[0]["at"], "holder": keyring.tag("alex"), "key": fingerprint(wrapped)}
    ]
    assert "alex" not in vault.journal.read_text()
    assert Keyring(os.urandom(32), vault).tag("alex") != keyring.tag("alex"), "keyed"


def test_a_copy_of_keys_put_back_after_an_erasure_does_not_bring_the_key_back(
    tmp_path: Path,
) -> None:
    vault = _vault(tmp_path)
    vault.create("alex", b"alex's key")
    vault.create("sam", b"sam's key")
    shutil.copytree(vault.directory, tmp_path / "keys-copy")
    vault.destroy("alex", "tag")
    shutil.rmtree(vault.directory)
    shutil.copytree(tmp_path / "keys-copy", vault.directory)  # the operator's old copy
    reopened = _vault(tmp_path)
    assert reopened.read("alex") is None
    assert reopened.read("sam") == b"sam's key"
    assert len(list(vault.directory.iterdir())) == 1, "the erased key's file is deleted again"


def test_a_corrupt_journal_line_is_named(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    vault.journal.write_text(
        '{"at": "2024-01-01T00:00:00+00:00", "holder": "x", "key": "y"}\nnot\n'
    )
    try:
        vault.erased()
    except Exception as error:
        assert f"{vault.journal}:2" in str(error)
    else:
        raise AssertionError("a corrupt journal was read")


def test_keys_an_older_version_kept_in_the_database_move_to_the_vault(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    old = _vault(tmp_path / "old")
    keyring = Keyring(MASTER, old)
    with engine.begin() as connection:
        keyring.load(connection, ["alex", "sam"], create=True)
        rows = [
            {"holder": h, "wrapped": old.read(h), "created_at": datetime.now(UTC)}
            for h in ("alex", "sam")
        ]
        connection.execute(insert(t.data_keys), rows)
    vault = _vault(tmp_path)
    sams = old.read("sam")
    assert sams is not None
    vault.create("sam", sams)
    vault.destroy("sam", "tag")  # Sam was erased after the database was backed up
    assert move_keys_out(engine, vault) == 2
    assert move_keys_out(engine, vault) == 0
    with engine.connect() as connection:
        assert connection.execute(select(t.data_keys)).all() == []
        moved = Keyring(MASTER, vault)
        assert moved.raw_key(connection, "alex") == keyring.raw_key(connection, "alex")
        assert moved.raw_key(connection, "sam") is None, "an erased key is not moved back"
    engine.dispose()


def test_an_erasure_an_older_version_made_is_journaled_so_its_key_is_not_moved_back(
    tmp_path: Path,
) -> None:
    """Older versions erased by deleting the `data_keys` row and leaving a `destroyed_keys`
    one; a backup from before such an erasure still holds the row."""
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    vault = _vault(tmp_path)
    keyring = Keyring(MASTER, vault)
    with engine.begin() as connection:
        keyring.load(connection, ["alex"], create=True)
    wrapped = vault.read("alex")
    assert wrapped is not None
    vault.remove("alex")  # what the older version's erasure did, but to a database row
    with engine.begin() as connection:
        connection.execute(
            insert(t.destroyed_keys).values(
                holder="alex", fingerprint=fingerprint(wrapped), destroyed_at=datetime.now(UTC)
            )
        )
        assert journal_older_erasures(connection, keyring) == 1
        assert journal_older_erasures(connection, keyring) == 0
        (erased,) = vault.erased()
        assert (erased.holder_tag, erased.fingerprint) == (
            keyring.tag("alex"),
            fingerprint(wrapped),
        )
        # The old backup is restored: its row comes back, and is dropped, not moved.
        connection.execute(
            insert(t.data_keys).values(holder="alex", wrapped=wrapped, created_at=datetime.now(UTC))
        )
    move_keys_out(engine, _vault(tmp_path))
    assert _vault(tmp_path).read("alex") is None
    engine.dispose()
