"""Erase a person: record the request, destroy their data key, purge their rows, sign a receipt.

The steps, each committed before the next, so a crash at any point is finished by running
`erase` again or by the next hub to open (`resume.py`: the request is picked up where it
stopped):

1. the request is recorded with its deadline (30 days by default) and shown to the operator;
   once it is being carried out it is marked started;
2. every consent the person gave is withdrawn (the gate stops collecting at once);
3. their data key's file in the key vault is deleted (and the erasure journal records it):
   every reading sealed under it is unreadable from that moment, in the database, its WAL and
   every database backup, none of which holds a key (crypto-shredding); a restored backup gets
   the erasure re-applied (`goodthings.deployment.restore`);
4. their readings are deleted in batches (with SQLite's secure_delete, and the WAL truncated
   afterwards), their sessions and sign-in links ended, their name and contact blanked;
5. a signed erasure receipt is stored and returned.

Readings from shared places (a household's electricity meter) are also about other people and
are sealed under the place's key: they are kept, and the receipt says so. When the operator
must keep aggregates, daily counts and means of the person's readings are kept first with no
link to the person or their device ("unlinked", `aggregates.py`), stored in the transaction
that records the key destroyed so a resumed erasure never stores them twice, and the receipt
says that instead.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import Keyring
from goodthings.core.store import (
    Order,
    Selection,
    count_readings,
    declared,
    delete_readings,
)
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.policy import changes
from goodthings.rights import signin
from goodthings.rights.consent import stop_everything
from goodthings.rights.erasure.aggregates import unlinked_aggregates
from goodthings.rights.erasure.lock import erasure_lock
from goodthings.rights.receipts import position, sign
from goodthings.rights.receipts.consent import controller

BATCH = 20_000
DELETED, UNLINKED = "deleted", "unlinked"
STARTED = "started"
"""A request being carried out: consents may be withdrawn, the key not yet destroyed."""


class ErasureError(GoodthingsError):
    """An erasure cannot go ahead as asked."""


@dataclass(frozen=True)
class ErasureOutcome:
    request_id: str
    subject_id: str
    mode: str
    unreadable_ms: float
    readings_purged: int
    aggregates_kept: int
    receipt: str


@dataclass(frozen=True)
class PendingRequest:
    id: str
    subject_id: str
    requested_at: datetime
    deadline: datetime
    method: str
    mode: str
    state: str


def request_erasure(
    engine: Engine,
    signer: Ed25519PrivateKey,
    subject_id: str,
    *,
    method: str,
    days: int = 30,
    keep_aggregates: bool = False,
    start: bool = False,
) -> str:
    """Record an erasure request with its deadline; an open request is reused, not doubled.

    With `start`, the request is marked started in the same transaction: from then on it is
    carried out to the end, by this process or, if it dies, by the next hub to open.
    """
    with engine.begin() as connection:
        existing = _open_request(connection, subject_id)
        if existing is not None:
            if start and existing.state == "requested":
                connection.execute(
                    update(tp.erasure_requests)
                    .where(tp.erasure_requests.c.id == existing.id)
                    .values(state=STARTED)
                )
            return existing.id
        if not declared.is_current_subject(connection, subject_id):
            raise ErasureError(f"there is no current subject {subject_id!r} to erase")
        now = datetime.now(UTC)
        request_id = str(uuid.uuid4())
        connection.execute(
            insert(tp.erasure_requests).values(
                id=request_id,
                subject_id=subject_id,
                requested_at=now,
                deadline=now + timedelta(days=days),
                method=method,
                mode=UNLINKED if keep_aggregates else DELETED,
                state=STARTED if start else "requested",
            )
        )
        ledger.append(
            connection,
            signer,
            actor=f"subject:{subject_id}" if method == "portal" else "operator",
            action="erase.request",
            target=f"subject:{subject_id}",
            counts={"deadline_days": days},
        )
    return request_id


def _open_request(connection: Connection, subject_id: str) -> PendingRequest | None:
    row = (
        connection.execute(
            select(tp.erasure_requests)
            .where(
                tp.erasure_requests.c.subject_id == subject_id,
                tp.erasure_requests.c.state != "done",
            )
            .order_by(tp.erasure_requests.c.requested_at)
        )
        .mappings()
        .first()
    )
    return None if row is None else _pending(row)


def _pending(row: Any) -> PendingRequest:
    return PendingRequest(
        id=row["id"],
        subject_id=row["subject_id"],
        requested_at=row["requested_at"],
        deadline=row["deadline"],
        method=row["method"],
        mode=row["mode"],
        state=row["state"],
    )


def pending_requests(connection: Connection) -> list[PendingRequest]:
    """Erasure requests not yet completed, oldest deadline first: what the operator must do."""
    rows = connection.execute(
        select(tp.erasure_requests)
        .where(tp.erasure_requests.c.state != "done")
        .order_by(tp.erasure_requests.c.deadline)
    ).mappings()
    return [_pending(row) for row in rows]


def make_unreadable(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    subject_id: str,
    request_id: str,
    *,
    aggregates: Sequence[dict[str, Any]] = (),
) -> float:
    """Destroy the person's data key, storing the unlinked `aggregates` in the same
    transaction; returns how long it took in milliseconds."""
    started = time.perf_counter()
    with engine.begin() as connection:
        _secure_delete(connection)
        if aggregates:
            connection.execute(insert(tp.unlinked_aggregates), list(aggregates))
        destroyed = keyring.shred(connection, subject_id)
        connection.execute(
            update(tp.erasure_requests)
            .where(tp.erasure_requests.c.id == request_id)
            .values(state="unreadable", unreadable_at=datetime.now(UTC))
        )
        ledger.append(
            connection,
            signer,
            actor="hub",
            action="erase.unreadable",
            target=f"subject:{subject_id}",
            counts={"keys_destroyed": destroyed},
        )
    with engine.connect() as connection:
        keyring.load_held(connection)
    # Every worker forgets the key now, not when the purge that follows is done.
    changes.announce(engine)
    return (time.perf_counter() - started) * 1000


Step = Callable[[int, int, str], None]
"""`step(done, total, what)`: called before each batch of a purge, so a command can show a bar."""


def _no_step(_done: int, _total: int, _what: str) -> None:
    return None


def purge(engine: Engine, subject_id: str, *, batch: int = BATCH, step: Step = _no_step) -> int:
    """Delete the person's readings in batches (each its own transaction, so ingest goes on
    between them); returns how many were deleted.

    `step` is told the readings deleted so far out of those there were when the purge began
    (counted once, so a person with millions of readings sees the erasure advance).

    Each batch adds its count to the erasure request in its own transaction, so a purge killed
    half-way, or before the receipt, leaves the request counting every reading deleted so far,
    and the receipt of the resumed erasure counts them all."""
    selection = Selection(subject_id=subject_id, order=Order.id, limit=batch)
    requests = tp.erasure_requests.c
    counted = func.coalesce(requests.readings_purged, 0)
    total = 0
    with engine.connect() as connection:
        expected = count_readings(connection, selection)
    while True:
        step(total, max(expected, total), f"readings of {subject_id}")
        with engine.begin() as connection:
            _secure_delete(connection)
            deleted = delete_readings(connection, selection)
            connection.execute(
                update(tp.erasure_requests)
                .where(requests.subject_id == subject_id, requests.state == "unreadable")
                .values(readings_purged=counted + deleted)
            )
        total += deleted
        if deleted < batch:
            break
    step(total, max(expected, total), f"readings of {subject_id}")
    _truncate_wal(engine)
    return total


def _secure_delete(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        # Deleted content is overwritten with zeros instead of left in free pages.
        connection.execute(text("PRAGMA secure_delete=ON"))


def _truncate_wal(engine: Engine) -> None:
    """Copy the WAL into the database and empty it, so old page images of the key are gone."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.commit()


def erase_subject(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    subject_id: str,
    *,
    method: str = "cli",
    days: int = 30,
    keep_aggregates: bool = False,
    step: Step = _no_step,
) -> ErasureOutcome:
    """Carry out (or finish) the erasure of a person; the portal and the CLI both call this.

    `step` follows the purge of the readings, the part that grows with the person's history.

    Each withdrawal, and the erasure when it is done, is announced (`policy.changes`), so a
    running hub's gate stops collecting before the key is destroyed. The request is marked
    started as it is recorded, under the deployment's erasure lock, so a process
    killed half-way leaves a started request that the next hub to open finishes
    (`resume_interrupted`).
    """
    with erasure_lock(keyring.vault.keys_dir):
        request_id = request_erasure(
            engine,
            signer,
            subject_id,
            method=method,
            days=days,
            keep_aggregates=keep_aggregates,
            start=True,
        )
        return carry_out(engine, keyring, signer, request_id, step=step)


def carry_out(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    request_id: str,
    *,
    step: Step = _no_step,
) -> ErasureOutcome:
    """Take a started request from wherever it stopped to done; the caller holds the lock."""
    with engine.connect() as connection:
        request = (
            connection.execute(
                select(tp.erasure_requests).where(tp.erasure_requests.c.id == request_id)
            )
            .mappings()
            .one()
        )
        subject_id = request["subject_id"]
        kept_places = _shared_places(connection, subject_id)
    mode = request["mode"]
    aggregates: list[dict[str, Any]] = []
    unreadable_ms = 0.0
    if request["state"] == STARTED:
        stop_everything(engine, signer, subject_id, method=request["method"])
        if mode == UNLINKED:
            aggregates = unlinked_aggregates(engine, keyring, subject_id)
        unreadable_ms = make_unreadable(
            engine, keyring, signer, subject_id, request_id, aggregates=aggregates
        )
    purge(engine, subject_id, step=step)
    receipt, purged = _finish(engine, signer, request, len(aggregates), kept_places)
    changes.announce(engine)
    return ErasureOutcome(
        request_id, subject_id, mode, unreadable_ms, purged, len(aggregates), receipt
    )


def _shared_places(connection: Connection, subject_id: str) -> list[str]:
    places = connection.execute(
        select(t.place_occupants.c.place_id).where(t.place_occupants.c.subject_id == subject_id)
    ).scalars()
    return sorted(places)


def _finish(
    engine: Engine,
    signer: Ed25519PrivateKey,
    request: Any,
    aggregates: int,
    places: list[str],
) -> tuple[str, int]:
    """Issue the receipt; returns it with every reading the erasure deleted, over all runs."""
    subject_id = request["subject_id"]
    now = datetime.now(UTC)
    with engine.begin() as connection:
        signin.end_sessions(connection, subject_id=subject_id)
        connection.execute(
            update(tp.portal_invites)
            .where(
                tp.portal_invites.c.subject_id == subject_id, tp.portal_invites.c.used_at.is_(None)
            )
            .values(used_at=now)
        )
        connection.execute(
            delete(tp.subject_recipients).where(tp.subject_recipients.c.subject_id == subject_id)
        )
        purged = connection.execute(
            select(func.coalesce(tp.erasure_requests.c.readings_purged, 0)).where(
                tp.erasure_requests.c.id == request["id"]
            )
        ).scalar_one()
        kept = [
            f"readings of the shared place {place!r}: they are also about the other people "
            "who live there, are protected by the place's own key, and are not linked to you "
            "alone"
            for place in places
        ]
        kept.append(
            "the record of your choices and this hub's ledger entries about you, which hold no "
            "readings: the operator must be able to show that it respected your choices"
        )
        # Appended before the receipt is signed, so the receipt's ledger position is this entry.
        ledger.append(
            connection,
            signer,
            actor="hub",
            action="erase.done",
            target=f"subject:{subject_id}",
            counts={"readings": int(purged), "aggregates_kept": aggregates},
        )
        receipt = {
            "kind": "erasure",
            "schema": "goodthings erasure receipt v1",
            "record_id": request["id"],
            "subject": {"id": subject_id},
            "controller": controller(connection),
            "requested_at": request["requested_at"].isoformat(),
            "deadline": request["deadline"].isoformat(),
            "method": request["method"],
            "mode": request["mode"],
            "time": now.isoformat(),
            "outcome": {
                "data_key_destroyed": True,
                "readings_deleted": int(purged),
                "unlinked_daily_aggregates_kept": aggregates,
                "kept": kept,
            },
            "ledger": position(connection),
        }
        document = sign(receipt, signer)
        connection.execute(
            update(t.subjects)
            .where(t.subjects.c.id == subject_id)
            .values(name="(erased)", contact=None, retired_at=now)
        )
        connection.execute(
            update(tp.erasure_requests)
            .where(tp.erasure_requests.c.id == request["id"])
            .values(
                state="done",
                completed_at=now,
                receipt=document,
            )
        )
    return document, int(purged)
