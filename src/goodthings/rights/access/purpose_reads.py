"""Purpose-bound reads: an application gets only what the gate allows for the purpose it names.

For each device with the stream, the gate decides as it does at ingest, but for this one purpose:
a consent-based purpose needs every person concerned to have said yes, and the level returned is
the coarsest any of them chose. Readings are then minimised to that level by
`goodthings.policy.minimise`, the rule ingest applies too, before they leave. Each request is one
ledger entry with the purpose and the counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, select

from goodthings.core import ledger
from goodthings.core.keys import Keyring, ReadingOpener, Value
from goodthings.core.ledger import content_digest
from goodthings.core.store import Selection, select_readings
from goodthings.core.store import tables as t
from goodthings.policy import Level, StreamDecision, StreamRule, inputs, reads
from goodthings.policy import minimise as minimisation
from goodthings.rights.access.credentials import AccessError, Grant
from goodthings.rights.objections import current as current_objections

MAX_READINGS = 10_000


@dataclass(frozen=True)
class ReadingsQuery:
    stream: str
    """A stream name, or `model-id/name`."""
    purpose: str
    start: float | None = None
    """Unix seconds, inclusive."""
    end: float | None = None
    """Unix seconds, exclusive."""
    limit: int = 1000


@dataclass(frozen=True)
class Reading:
    device_id: str
    stream: str
    time: float
    value: float | str | bool | None
    level: Level
    count: int = 1
    """How many readings this value summarises (for `aggregate`)."""


@dataclass(frozen=True)
class ReadResult:
    purpose: str
    readings: tuple[Reading, ...]
    withheld: Mapping[str, int]
    """Devices whose readings were withheld, by the gate's reason."""
    truncated: bool
    ledger_seq: int


@dataclass(frozen=True)
class _Target:
    rule: StreamRule
    ref: str
    automated: bool
    """The application or the stream declares automated decisions or profiling."""


def read_readings(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    grant: Grant,
    query: ReadingsQuery,
    stored: Engine | None = None,
) -> ReadResult:
    """The readings `grant`'s application may have for `query`, and the ledger entry recording it.

    `stored` is where the readings themselves are read (a fresh-enough replica); the decision,
    the keys destroyed and the ledger entry are always read and written on `engine`."""
    if query.purpose not in grant.purposes:
        raise AccessError(
            f"the token does not allow the purpose {query.purpose!r}; it allows: "
            f"{', '.join(grant.purposes) or 'none'}",
            code="insufficient_scope",
        )
    limit = max(1, min(query.limit, MAX_READINGS))
    with engine.begin() as connection, (stored or engine).connect() as rows_connection:
        facts = inputs.read_inputs(connection)
        targets = _targets(connection, grant.application_id, query, facts.rules)
        objections = current_objections(connection)
        found: list[Reading] = []
        withheld: Counter[str] = Counter()
        for target in targets:
            for device in facts.devices:
                if device.model_id != target.rule.model_id:
                    continue
                read = reads.for_application(
                    target.rule,
                    device,
                    facts.choices,
                    query.purpose,
                    automated=target.automated,
                    objections=objections,
                )
                if not read.allowed:
                    withheld[read.withheld or "no_consent"] += 1
                    continue
                rows = stored_values(
                    connection,
                    keyring,
                    device.device_id,
                    target.rule.stream_id,
                    query.start,
                    query.end,
                    limit + 1,
                    rows_from=rows_connection,
                )
                found.extend(minimise(rows, read.gate, target.ref, device.device_id))
        found.sort(key=lambda reading: (reading.time, reading.device_id, reading.stream))
        truncated = len(found) > limit
        returned = tuple(found[:limit])
        # Per device too, so that each person concerned can be shown what came from their devices.
        per_device = Counter(f"returned.{reading.device_id}" for reading in returned)
        counts = {
            "returned": len(returned),
            **per_device,
            **{f"withheld.{k}": v for k, v in withheld.items()},
        }
        entry = ledger.append(
            connection,
            signer,
            actor=f"application:{grant.application_id}",
            action="read",
            target=f"stream:{','.join(sorted({tg.ref for tg in targets}))}",
            purpose=query.purpose,
            counts=counts,
            digest=content_digest([_encoded(reading) for reading in returned]),
        )
    return ReadResult(query.purpose, returned, dict(withheld), truncated, entry.seq)


def _targets(
    connection: Connection,
    application_id: str,
    query: ReadingsQuery,
    rules: Mapping[str, Sequence[StreamRule]],
) -> list[_Target]:
    """The streams the application may read for the purpose; AccessError when there are none."""
    app = connection.execute(
        select(t.applications.c.purposes, t.applications.c.spec).where(
            t.applications.c.id == application_id, t.applications.c.retired_at.is_(None)
        )
    ).first()
    if app is None:
        raise AccessError(f"the application {application_id!r} is no longer declared", status=401)
    if query.purpose not in app.purposes:
        raise AccessError(
            f"the application {application_id!r} is not declared for {query.purpose!r}",
            code="insufficient_scope",
        )
    declared = set(app.spec.get("streams", []))
    model_id, _, name = query.stream.rpartition("/")
    rows = connection.execute(
        select(t.streams.c.id, t.streams.c.model_id, t.streams.c.spec).where(
            t.streams.c.name == name, t.streams.c.retired_at.is_(None)
        )
    ).all()
    readable = [
        row
        for row in rows
        if (not model_id or row.model_id == model_id)
        and (name in declared or f"{row.model_id}/{name}" in declared)
    ]
    if not readable:
        raise AccessError(
            f"the application {application_id!r} does not read a stream {query.stream!r}; "
            f"it reads: {', '.join(sorted(declared))}"
        )
    targets = []
    for row in readable:
        rule = next((r for r in rules.get(row.model_id, ()) if r.stream_id == row.id), None)
        if rule is None:
            continue
        if any(use[0] == query.purpose for use in rule.purposes):
            automated = _automated(app.spec) or _automated(row.spec)
            targets.append(_Target(rule, f"{row.model_id}/{name}", automated))
    if not targets:
        raise AccessError(f"{query.stream!r} is not collected for {query.purpose!r}")
    return targets


def _automated(spec: Mapping[str, object]) -> bool:
    automation = spec.get("automation")
    if not isinstance(automation, Mapping):
        return False
    return bool(automation.get("automated_decisions") or automation.get("profiling"))


def stored_values(
    connection: Connection,
    keyring: Keyring,
    device_id: str,
    stream_id: int,
    start: float | None,
    end: float | None,
    limit: int,
    rows_from: Connection | None = None,
) -> list[tuple[float, Value | None]]:
    """(time, value) of a device's stored readings of a stream, decrypted, oldest first; the
    rows come from `rows_from` (a replica) when given, the keys destroyed from `connection`."""
    selection = Selection(
        device_id=device_id, stream_ids=(stream_id,), start=start, end=end, limit=limit
    )
    opener = ReadingOpener(keyring, connection)
    return [
        (row.time, value)
        for row, value in opener.readable(select_readings(rows_from or connection, selection))
    ]


def minimise(
    rows: list[minimisation.Point], decision: StreamDecision, ref: str, device_id: str
) -> list[Reading]:
    """The rows at the decision's level: never finer than the gate allows for this purpose."""
    level = decision.level
    return [
        Reading(device_id, ref, time, _plain(value), level, count)
        for time, value, count in minimisation.minimise(
            rows, level, step=decision.coarse_step, window=decision.aggregate_seconds
        )
    ]


def _plain(value: Value | None) -> float | str | bool | None:
    return value.hex() if isinstance(value, bytes) else value


def _encoded(reading: Reading) -> bytes:
    return json.dumps(
        [
            reading.device_id,
            reading.stream,
            reading.time,
            reading.value,
            reading.level,
            reading.count,
        ],
        separators=(",", ":"),
    ).encode()
