"""The witness file: one signed line per checkpoint, written only when its transaction commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from goodthings.core.errors import LedgerError
from goodthings.core.ledger import CheckpointPolicy, append, attach_witness, read_witness
from goodthings.core.ledger import checkpoints as stored_checkpoints
from goodthings.core.store import migrate, open_engine
from goodthings.core.store import tables as t

SIGNER = Ed25519PrivateKey.generate()
EVERY_2 = CheckpointPolicy(every_entries=2, every_seconds=3600)


def _append(engine: Engine) -> None:
    with engine.begin() as connection:
        append(connection, SIGNER, actor="test", action="ingest", target="readings", policy=EVERY_2)


def test_every_committed_checkpoint_is_a_line_of_a_private_file(
    store: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "witness.jsonl"
    attach_witness(store, path)
    for _ in range(5):
        _append(store)
    with store.connect() as connection:
        signed = stored_checkpoints(connection)
    assert [c.seq for c in signed] == [1, 3, 5]
    assert read_witness(path) == signed
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_rolled_back_checkpoint_is_not_witnessed(store: Engine, tmp_path: Path) -> None:
    path = tmp_path / "witness.jsonl"
    attach_witness(store, path)
    with pytest.raises(RuntimeError), store.begin() as connection:
        append(connection, SIGNER, actor="test", action="ingest", target="readings")
        raise RuntimeError("the batch failed after its entry was appended")
    assert not path.exists()
    _append(store)
    assert [c.seq for c in read_witness(path)] == [1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not a JSON object"),
        ('{"seq": 1}', "line 2: a witness line holds exactly"),
        (
            '{"seq": "1", "hash": "", "time": "", "signature": "", "key_id": ""}',
            "line 2: seq must be a number",
        ),
    ],
)
def test_a_malformed_witness_line_is_named(
    store: Engine, tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "witness.jsonl"
    attach_witness(store, path)
    _append(store)
    with path.open("a") as handle:
        handle.write(line + "\n")
    with pytest.raises(LedgerError, match=message):
        read_witness(path)


def test_a_missing_witness_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="does not exist"):
        read_witness(tmp_path / "nowhere.jsonl")


def test_a_checkpoint_whose_commit_fails_is_not_witnessed(tmp_path: Path) -> None:
    """SQLite checks deferred foreign keys at COMMIT: the commit itself fails, after every
    statement of the transaction succeeded."""
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    path = tmp_path / "witness.jsonl"
    attach_witness(engine, path)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
            append(connection, SIGNER, actor="test", action="ingest", target="readings")
            connection.execute(insert(t.place_occupants).values(place_id="no", subject_id="no"))
        assert not path.exists()
        _append(engine)
        assert [c.seq for c in read_witness(path)] == [1]
    finally:
        engine.dispose()
