"""Objections to automated decisions and profiling: recorded per person and stream, enforced on reads.

A person who objects to a stream's automated use is left out of what an application that
declares automated decisions or profiling reads, and out of every application's reads when the
stream itself declares them. Each change is a new row and a ledger entry, in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, select

from goodthings.core import ledger
from goodthings.core.errors import PolicyError
from goodthings.core.ledger import content_digest
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.policy import inputs, people_concerned

OBJECTED, WITHDRAWN = "objected", "withdrawn"


@dataclass(frozen=True)
class Objection:
    id: int
    subject_id: str
    stream: str
    state: str
    created_at: datetime


def _stream_of(connection: Connection, subject_id: str, ref: str) -> tuple[int, str]:
    """The stream `ref` (name or model-id/name) on a device the subject is concerned by."""
    facts = inputs.read_inputs(connection)
    model_id, _, name = ref.rpartition("/")
    found: dict[int, str] = {}
    for device in facts.devices:
        for rule in facts.rules.get(device.model_id, ()):
            if rule.name != name or (model_id and rule.model_id != model_id):
                continue
            if subject_id in people_concerned(rule, device):
                found[rule.stream_id] = f"{rule.model_id}/{rule.name}"
    if not found:
        raise PolicyError(
            f"{subject_id!r} is not concerned by a personal stream {ref!r}; "
            "`goodthings consent show --subject ID` lists their streams"
        )
    if len(found) > 1:
        raise PolicyError(
            f"several models have a stream {ref!r}; say {' or '.join(found.values())}"
        )
    return next(iter(found.items()))


def record(
    engine: Engine,
    signer: Ed25519PrivateKey,
    subject_id: str,
    stream: str,
    *,
    withdraw: bool = False,
    method: str = "cli",
) -> Objection:
    """Record an objection (or its withdrawal) and its ledger entry."""
    state = WITHDRAWN if withdraw else OBJECTED
    now = datetime.now(UTC)
    with engine.begin() as connection:
        stream_id, ref = _stream_of(connection, subject_id, stream)
        values = {
            "subject_id": subject_id,
            "stream_id": stream_id,
            "state": state,
            "method": method,
            "created_at": now,
        }
        key = connection.execute(insert(tt.objections).values(**values)).inserted_primary_key
        assert key is not None
        ledger.append(
            connection,
            signer,
            actor="operator" if method == "cli" else f"subject:{subject_id}",
            action=f"objection.{'withdraw' if withdraw else 'record'}",
            target=f"subject:{subject_id}/stream:{ref}",
            counts={state: 1},
            digest=content_digest([json.dumps({**values, "stream": ref}, default=str).encode()]),
        )
    return Objection(int(key[0]), subject_id, ref, state, now)


def current(connection: Connection) -> frozenset[tuple[str, int]]:
    """(subject id, stream id) of every objection in force now."""
    latest: dict[tuple[str, int], str] = {}
    for subject, stream_id, state in connection.execute(
        select(
            tt.objections.c.subject_id, tt.objections.c.stream_id, tt.objections.c.state
        ).order_by(tt.objections.c.id)
    ):
        latest[(subject, stream_id)] = state
    return frozenset(key for key, state in latest.items() if state == OBJECTED)


def objected(people: Iterable[str], stream_id: int, objections: frozenset[tuple[str, int]]) -> bool:
    """Whether any of `people` objects to automated use of the stream."""
    return any((person, stream_id) in objections for person in people)


def history(connection: Connection, subject_id: str) -> list[Objection]:
    rows = connection.execute(
        select(tt.objections, t.streams.c.model_id, t.streams.c.name)
        .join(t.streams, t.streams.c.id == tt.objections.c.stream_id)
        .where(tt.objections.c.subject_id == subject_id)
        .order_by(tt.objections.c.id)
    )
    return [
        Objection(row.id, row.subject_id, f"{row.model_id}/{row.name}", row.state, row.created_at)
        for row in rows
    ]
