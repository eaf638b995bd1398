"""Attacks on the stored ledger by direct SQL, as an operator with full database access would
make them: each is caught by `goodthings ledger verify`, from the database alone when it
leaves a trace there, and from a receipt or the witness file when it does not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, text, update

from cli_helpers import Ran, run
from goodthings.core.config import Home
from goodthings.core.keys import load_signing_key
from goodthings.core.ledger import journal as store
from goodthings.core.ledger.chain import make_entry
from goodthings.core.store import tables as t
from goodthings.deployment import open_store
from goodthings.rights.consent import records as consent
from templates import init_from_template

EVERY_3 = store.CheckpointPolicy(every_entries=3, every_seconds=3600)


@dataclass(frozen=True)
class Deployment:
    home: Home
    engine: Engine

    def verify(self, capsys: pytest.CaptureFixture[str], *extra: str) -> Ran:
        return run(capsys, "ledger", "verify", "--home", str(self.home.root), *extra)

    def sql(self, *statements: object) -> None:
        with self.engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)  # type: ignore[call-overload]


@pytest.fixture
def deployment(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    """The smart-home example with 7 ledger entries, signed at entries 1, 4 and 7."""
    override = None if database_url.startswith("sqlite") else database_url
    if override is not None:
        monkeypatch.setenv("GOODTHINGS_DATABASE_URL", override)
    home = Home(tmp_path / "smart-home", override)
    init_from_template(home, "smart-home")
    engine = open_store(home)
    signer = load_signing_key(home.keys_dir)
    for index in range(7):
        with engine.begin() as connection:
            store.append(
                connection,
                signer,
                actor="test",
                action="ingest",
                target="readings",
                counts={"stored": index},
                policy=EVERY_3,
            )
    yield Deployment(home, engine)
    engine.dispose()


def test_the_untouched_ledger_is_intact(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    ran = deployment.verify(capsys)
    assert ran.code == 0, ran.err
    assert "The ledger is intact: 7 entries, 3 signed checkpoints" in ran.out


def test_deleting_every_entry_and_checkpoint_is_caught_by_the_head(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    deployment.sql(delete(t.ledger_entries), delete(t.ledger_checkpoints))
    ran = deployment.verify(capsys, "--no-witness")
    assert ran.code == 1
    assert "NOT intact" in ran.err and "empty" in ran.err and "7" in ran.err
    by_default = deployment.verify(capsys)  # the deployment's own witness file, when it exists
    assert by_default.code == 1 and "the witness file saw entry 7" in by_default.err


def test_deleting_every_entry_is_caught(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    deployment.sql(delete(t.ledger_entries))
    ran = deployment.verify(capsys)
    assert ran.code == 1 and "NOT intact" in ran.err


def test_deleting_the_newest_checkpoint_with_its_entries_is_caught_by_the_head(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    deployment.sql(
        delete(t.ledger_checkpoints).where(t.ledger_checkpoints.c.seq == 7),
        delete(t.ledger_entries).where(t.ledger_entries.c.seq > 4),
    )
    ran = deployment.verify(capsys, "--no-witness")
    assert ran.code == 1
    assert "ends at entry 4" in ran.err and "head says entry 7" in ran.err


def _forge_from(deployment: Deployment, seq: int) -> None:
    """Rewrite entry `seq` and every entry after it, with hashes recomputed (a valid chain)."""
    with deployment.engine.begin() as connection:
        entries = list(store.entries(connection))
        previous = entries[seq - 2] if seq > 1 else None
        for entry in entries[seq - 1 :]:
            forged = make_entry(
                previous,
                time=entry.time,
                actor=entry.actor,
                action=entry.action,
                object=entry.object,
                purpose=entry.purpose,
                counts={"stored": 999},
                digest=entry.digest,
            )
            connection.execute(
                update(t.ledger_entries)
                .where(t.ledger_entries.c.seq == entry.seq)
                .values(counts=forged.counts, prev_hash=forged.prev_hash, hash=forged.hash)
            )
            previous = forged
        assert previous is not None
        connection.execute(update(t.ledger_head).values(hash=previous.hash))


def test_a_rewrite_after_deleting_every_checkpoint_is_caught(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    deployment.sql(delete(t.ledger_checkpoints))
    _forge_from(deployment, 2)
    ran = deployment.verify(capsys, "--no-witness")
    assert ran.code == 1
    assert "no signed checkpoint" in ran.err


def test_a_head_moved_back_without_deleting_entries_is_caught(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    deployment.sql(update(t.ledger_head).values(seq=2))
    ran = deployment.verify(capsys, "--no-witness")
    assert ran.code == 1 and "head" in ran.err


def _roll_back_to_4(deployment: Deployment) -> None:
    """Delete the newest checkpoint and entries 5..7, and move the head back to match."""
    with deployment.engine.begin() as connection:
        entry_4 = next(e for e in store.entries(connection) if e.seq == 4)
    deployment.sql(
        delete(t.ledger_checkpoints).where(t.ledger_checkpoints.c.seq == 7),
        delete(t.ledger_entries).where(t.ledger_entries.c.seq > 4),
        update(t.ledger_head).values(seq=4, hash=entry_4.hash, checkpoint_seq=4),
    )


def test_a_rollback_of_rows_and_head_together_leaves_no_trace_in_the_database(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    """The limit of checking the database alone, which the witness and receipts close."""
    _roll_back_to_4(deployment)
    ran = deployment.verify(capsys, "--no-witness")
    assert ran.code == 0, ran.err
    assert "4 entries" in ran.out


def test_a_rollback_of_rows_and_head_together_is_caught_by_the_witness_file(
    capsys: pytest.CaptureFixture[str], deployment: Deployment, tmp_path: Path
) -> None:
    witness = deployment.home.root / "ledger-witness.jsonl"
    assert witness.stat().st_mode & 0o777 == 0o600
    assert len(witness.read_text().splitlines()) == 3
    copy = tmp_path / "witness-kept-elsewhere.jsonl"
    copy.write_bytes(witness.read_bytes())
    _roll_back_to_4(deployment)
    witness.write_text("")  # the operator empties the deployment's own copy too
    ran = deployment.verify(capsys, "--witness", str(copy))
    assert ran.code == 1
    assert "witness" in ran.err and "entry 7" in ran.err and "rolled back" in ran.err


def test_a_rollback_of_rows_and_head_together_is_caught_by_a_persons_receipt(
    capsys: pytest.CaptureFixture[str], deployment: Deployment, tmp_path: Path
) -> None:
    signer = load_signing_key(deployment.home.keys_dir)
    record = consent.give(
        deployment.engine,
        signer,
        consent.ConsentChange("alex", "presence", "OptimisationForConsumer", method="cli"),
    )
    with deployment.engine.connect() as connection:
        document = connection.execute(
            text("SELECT document FROM consent_receipts WHERE id = :id"), {"id": record.receipt_id}
        ).scalar_one()
    receipts = tmp_path / "alex-receipts"
    receipts.mkdir()
    (receipts / "consent.json").write_text(document)
    ok = deployment.verify(capsys, "--receipts", str(receipts), "--no-witness")
    assert ok.code == 0, ok.err
    assert "1 receipt" in ok.out
    _roll_back_to_4(deployment)
    ran = deployment.verify(capsys, "--receipts", str(receipts), "--no-witness")
    assert ran.code == 1
    assert "consent.json" in ran.err and "entry 8" in ran.err


def test_an_unsigned_tail_longer_than_the_bound_is_refused(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    signer = load_signing_key(deployment.home.keys_dir)
    rarely = store.CheckpointPolicy(every_entries=100, every_seconds=3600)
    for _ in range(2):
        with deployment.engine.begin() as connection:
            store.append(connection, signer, actor="t", action="a", target="x", policy=rarely)
    assert deployment.verify(capsys, "--max-unsigned", "2").code == 0
    ran = deployment.verify(capsys, "--max-unsigned", "1")
    assert ran.code == 1
    assert "entries 8 to 9 are not covered by any signed checkpoint" in ran.err


def test_an_emptied_ledger_with_its_head_reset_is_caught_only_by_the_witness(
    capsys: pytest.CaptureFixture[str], deployment: Deployment
) -> None:
    deployment.sql(
        delete(t.ledger_entries),
        delete(t.ledger_checkpoints),
        update(t.ledger_head).values(seq=0, hash="0" * 64, checkpoint_seq=0),
    )
    alone = deployment.verify(capsys, "--no-witness")
    assert alone.code == 0 and "0 entries" in alone.out  # a fresh ledger looks just like this
    ran = deployment.verify(capsys)
    assert ran.code == 1
    assert "ends at entry 0, but the witness file saw entry 7" in ran.err
