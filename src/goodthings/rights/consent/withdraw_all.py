"""Withdrawing everything a person agreed to, to collect and to share, through one path.

Both the portal's "stop everything" and erasure's first step call `stop_everything`.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, select

from goodthings.core.store import tables as t
from goodthings.policy import inputs
from goodthings.rights.consent import records as consent


def share_choices(connection: Connection, subject_id: str) -> dict[tuple[int, str, str], bool]:
    """Per (stream id, purpose, recipient): whether the person's latest choice is to share."""
    rows = connection.execute(
        select(
            t.consents.c.stream_id,
            t.consents.c.purpose,
            t.consents.c.recipient_id,
            t.consents.c.state,
        )
        .where(t.consents.c.subject_id == subject_id, t.consents.c.recipient_id.is_not(None))
        .order_by(t.consents.c.id)
    )
    return {(s, p, r): state == "given" for s, p, r, state in rows}


def stop_everything(
    engine: Engine, signer: Ed25519PrivateKey, subject_id: str, *, method: str
) -> list[consent.ConsentRecord]:
    """Withdraw every consent the person has given, to collect and to share, in one action."""
    with engine.connect() as connection:
        given = [
            (stream_id, purpose)
            for (_, stream_id, purpose), choice in inputs.current_choices(
                connection, [subject_id]
            ).items()
            if choice.given
        ]
        shares = [key for key, on in share_choices(connection, subject_id).items() if on]
        labels = {
            row.id: f"{row.model_id}/{row.name}"
            for row in connection.execute(
                select(t.streams.c.id, t.streams.c.model_id, t.streams.c.name)
            )
        }
    records = []
    for stream_id, purpose, recipient in shares:
        change = consent.ConsentChange(
            subject_id, labels[stream_id], purpose, recipient, method=method
        )
        records.append(consent.withdraw(engine, signer, change))
    for stream_id, purpose in given:
        change = consent.ConsentChange(subject_id, labels[stream_id], purpose, method=method)
        records.append(consent.withdraw(engine, signer, change))
    return records
