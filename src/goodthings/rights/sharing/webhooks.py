"""Deliver readings to recipients' webhooks: through the gate, signed, retried, dead-lettered.

A delivery is one time window of one stream for one (recipient, purpose) share the manifest
declares. At each attempt its readings are read through the gate for that recipient: for a
purpose based on consent, every person concerned must have consented to sharing with that
recipient (the coarsest level chosen applies); otherwise the stream's declared sharing holds.
So a consent withdrawn before a retry stops the retry sending those readings.
"""

from __future__ import annotations

import json
import time as clock
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, func, insert, select, update

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import Keyring
from goodthings.core.ledger import content_digest
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.policy import Choice, ConsentKey, Level, inputs, reads
from goodthings.rights.access.purpose_reads import minimise, stored_values
from goodthings.rights.sharing.rotation import generations
from goodthings.rights.sharing.signing import HEADER, WebhookSecrets

PENDING, DELIVERED, EMPTY, DEAD = "pending", "delivered", "empty", "dead"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off: base, then twice that, four times… capped; dead after `max_attempts`."""

    max_attempts: int = 6
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0

    def delay(self, attempts: int) -> float:
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Delivery:
    id: int
    recipient_id: str
    stream: str
    purpose: str
    window_start: float
    window_end: float
    status: str
    attempts: int
    last_error: str | None
    readings: int | None


class UnknownDelivery(GoodthingsError):
    """No delivery has this id."""


def _recipient_choices(connection: Connection, recipient_id: str) -> dict[ConsentKey, Choice]:
    choices: dict[ConsentKey, Choice] = {}
    for subject, stream_id, purpose, state, level in connection.execute(
        select(
            t.consents.c.subject_id,
            t.consents.c.stream_id,
            t.consents.c.purpose,
            t.consents.c.state,
            t.consents.c.level,
        )
        .where(t.consents.c.recipient_id == recipient_id)
        .order_by(t.consents.c.id)
    ):
        choices[(subject, stream_id, purpose)] = Choice(state == "given", Level(level))
    return choices


def schedule(engine: Engine, now: float | None = None) -> int:
    """Open a delivery for each declared share since its last window; returns how many."""
    moment = clock.time() if now is None else now
    created = 0
    with engine.begin() as connection:
        hooks = {
            row.id: row.spec["webhook_url"]
            for row in connection.execute(
                select(t.recipients.c.id, t.recipients.c.spec).where(
                    t.recipients.c.retired_at.is_(None)
                )
            )
            if row.spec.get("webhook_url")
        }
        streams = connection.execute(
            select(t.streams.c.id, t.streams.c.spec).where(t.streams.c.retired_at.is_(None))
        ).all()
        for stream_id, spec in streams:
            for share in spec.get("recipients", []):
                if share["recipient"] not in hooks:
                    continue
                d = tt.deliveries.c
                last = connection.execute(
                    select(func.max(d.window_end)).where(
                        d.recipient_id == share["recipient"],
                        d.stream_id == stream_id,
                        d.purpose == share["purpose"],
                    )
                ).scalar()
                start = float(last or 0.0)
                if moment <= start:
                    continue
                connection.execute(
                    insert(tt.deliveries).values(
                        recipient_id=share["recipient"],
                        stream_id=stream_id,
                        purpose=share["purpose"],
                        window_start=start,
                        window_end=moment,
                        status=PENDING,
                        attempts=0,
                        next_attempt_at=moment,
                        created_at=datetime.now(UTC),
                    )
                )
                created += 1
    return created


def _payload(
    connection: Connection, keyring: Keyring, row: Any
) -> tuple[dict[str, Any], Counter[str]]:
    facts = inputs.read_inputs(connection)
    stream = connection.execute(
        select(t.streams.c.model_id, t.streams.c.name).where(t.streams.c.id == row.stream_id)
    ).one()
    rule = next(
        (r for r in facts.rules.get(stream.model_id, ()) if r.stream_id == row.stream_id), None
    )
    counts: Counter[str] = Counter()
    readings: list[dict[str, Any]] = []
    ref = f"{stream.model_id}/{stream.name}"
    if rule is not None:
        rule = replace(rule, purposes=tuple(u for u in rule.purposes if u[0] == row.purpose))
        choices = _recipient_choices(connection, row.recipient_id)
        for device in facts.devices:
            if device.model_id != rule.model_id or not rule.purposes:
                continue
            read = reads.for_recipient(rule, device, choices, row.purpose)
            if not read.allowed:
                counts[f"withheld.{read.withheld}"] += 1
                continue
            decision = read.gate
            values = stored_values(
                connection,
                keyring,
                device.device_id,
                row.stream_id,
                row.window_start,
                row.window_end,
                100_000,
            )
            for reading in minimise(values, decision, ref, device.device_id):
                readings.append(
                    {
                        "device": reading.device_id,
                        "time": reading.time,
                        "value": reading.value,
                        "level": reading.level,
                        "count": reading.count,
                    }
                )
    counts["delivered"] = len(readings)
    body = {
        "delivery": row.id,
        "recipient": row.recipient_id,
        "stream": ref,
        "purpose": row.purpose,
        "from": row.window_start,
        "to": row.window_end,
        "readings": readings,
    }
    return body, counts


def deliver_due(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    secrets: WebhookSecrets,
    client: httpx2.Client,
    *,
    now: float | None = None,
    policy: RetryPolicy | None = None,
) -> list[Delivery]:
    """Attempt every pending delivery that is due; returns them as they stand afterwards."""
    moment = clock.time() if now is None else now
    retry = policy or RetryPolicy()
    d = tt.deliveries.c
    with engine.connect() as connection:
        due = connection.execute(
            select(tt.deliveries)
            .where(d.status == PENDING, d.next_attempt_at <= moment)
            .order_by(d.id)
        ).all()
        hooks = {
            row.id: row.spec.get("webhook_url")
            for row in connection.execute(select(t.recipients.c.id, t.recipients.c.spec))
        }
    done: list[int] = []
    for row in due:
        with engine.connect() as connection:
            body, counts = _payload(connection, keyring, row)
        target = f"recipient:{row.recipient_id}/stream:{body['stream']}"
        if not body["readings"]:
            with engine.begin() as connection:
                connection.execute(
                    update(tt.deliveries)
                    .where(d.id == row.id)
                    .values(status=EMPTY, readings=0, delivered_at=datetime.now(UTC))
                )
            done.append(row.id)
            continue
        data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        with engine.connect() as connection:
            signing = generations(connection, row.recipient_id, moment)
        error = _post(
            client,
            hooks.get(row.recipient_id),
            data,
            secrets.sign(row.recipient_id, data, int(moment), signing),
            row.id,
        )
        attempts = row.attempts + 1
        with engine.begin() as connection:
            if error is None:
                connection.execute(
                    update(tt.deliveries)
                    .where(d.id == row.id)
                    .values(
                        status=DELIVERED,
                        attempts=attempts,
                        readings=len(body["readings"]),
                        last_error=None,
                        delivered_at=datetime.now(UTC),
                    )
                )
                ledger.append(
                    connection,
                    signer,
                    actor="hub:sharing",
                    action="share",
                    target=target,
                    purpose=row.purpose,
                    counts=dict(counts),
                    digest=content_digest([data]),
                )
            elif attempts >= retry.max_attempts:
                connection.execute(
                    update(tt.deliveries)
                    .where(d.id == row.id)
                    .values(status=DEAD, attempts=attempts, last_error=error)
                )
                ledger.append(
                    connection,
                    signer,
                    actor="hub:sharing",
                    action="share.dead-letter",
                    target=target,
                    purpose=row.purpose,
                    counts={"attempts": attempts},
                )
            else:
                connection.execute(
                    update(tt.deliveries)
                    .where(d.id == row.id)
                    .values(
                        attempts=attempts,
                        last_error=error,
                        next_attempt_at=moment + retry.delay(attempts),
                    )
                )
        done.append(row.id)
    with engine.connect() as connection:
        return [delivery for delivery in listing(connection) if delivery.id in set(done)]


def _post(
    client: httpx2.Client, url: str | None, data: bytes, signed: str, delivery_id: int
) -> str | None:
    """None when the recipient took the delivery (2xx), else why not (kept, never the body)."""
    if not url:
        return "the recipient has no webhook_url any more"
    try:
        response = client.post(
            url,
            content=data,
            headers={
                "Content-Type": "application/json",
                HEADER: signed,
                "X-Goodthings-Delivery": str(delivery_id),
            },
        )
    except httpx2.HTTPError as exc:
        return f"{type(exc).__name__}: could not reach {url}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code} from {url}"


def listing(connection: Connection, status: str | None = None) -> list[Delivery]:
    """Deliveries, newest first; `status="dead"` is the dead-letter list."""
    d = tt.deliveries.c
    query = (
        select(tt.deliveries, t.streams.c.model_id, t.streams.c.name)
        .join(t.streams, t.streams.c.id == d.stream_id)
        .order_by(d.id.desc())
    )
    if status is not None:
        query = query.where(d.status == status)
    return [
        Delivery(
            id=row.id,
            recipient_id=row.recipient_id,
            stream=f"{row.model_id}/{row.name}",
            purpose=row.purpose,
            window_start=row.window_start,
            window_end=row.window_end,
            status=row.status,
            attempts=row.attempts,
            last_error=row.last_error,
            readings=row.readings,
        )
        for row in connection.execute(query)
    ]


def replay(
    engine: Engine, signer: Ed25519PrivateKey, delivery_id: int, now: float | None = None
) -> None:
    """Put a dead-lettered delivery back in the queue, due now, with its attempts reset."""
    d = tt.deliveries.c
    with engine.begin() as connection:
        row = connection.execute(select(tt.deliveries).where(d.id == delivery_id)).first()
        if row is None or row.status != DEAD:
            raise UnknownDelivery(
                f"there is no dead-lettered delivery {delivery_id}; "
                "`goodthings share dead-letters` lists them"
            )
        connection.execute(
            update(tt.deliveries)
            .where(d.id == delivery_id)
            .values(
                status=PENDING, attempts=0, next_attempt_at=clock.time() if now is None else now
            )
        )
        ledger.append(
            connection,
            signer,
            actor="operator",
            action="share.replay",
            target=f"recipient:{row.recipient_id}/delivery:{delivery_id}",
            purpose=row.purpose,
            counts={"replayed": 1},
        )
