"""Rotating a recipient's webhook secret with an overlap, so the recipient can switch to the
new secret without losing a delivery.

`rotate_secret` moves the recipient to the next generation of its secret and records until when
the previous one still signs: during that overlap (24 hours unless told otherwise) every
delivery carries both signatures; afterwards only the new one. Rotating again during an overlap
ends the older secret at once: only the two newest generations ever sign.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, delete, insert, select

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.rights.sharing.signing import WebhookSecrets

DEFAULT_OVERLAP = 24 * 3600.0


class UnknownRecipient(GoodthingsError):
    """No recipient of the deployment has this id."""


@dataclass(frozen=True)
class RotatedSecret:
    recipient_id: str
    generation: int
    secret: str
    previous_until: float
    """Unix time until which deliveries are signed with the previous secret as well."""


def generations(connection: Connection, recipient_id: str, now: float) -> tuple[int, ...]:
    """The generations a delivery to this recipient is signed with at `now`, newest first."""
    row = connection.execute(
        select(tt.webhook_secrets.c.generation, tt.webhook_secrets.c.previous_until).where(
            tt.webhook_secrets.c.recipient_id == recipient_id
        )
    ).first()
    if row is None:
        return (0,)
    if now < row.previous_until:
        return (row.generation, row.generation - 1)
    return (row.generation,)


def current_secret(connection: Connection, secrets: WebhookSecrets, recipient_id: str) -> str:
    return secrets.secret(recipient_id, generations(connection, recipient_id, clock.time())[0])


def rotate_secret(
    engine: Engine,
    signer: Ed25519PrivateKey,
    secrets: WebhookSecrets,
    recipient_id: str,
    *,
    overlap: float = DEFAULT_OVERLAP,
    now: float | None = None,
) -> RotatedSecret:
    """Start the recipient's next secret; the previous one signs too for `overlap` seconds."""
    if not overlap >= 0:
        raise GoodthingsError(f"the overlap must be 0 or more seconds, not {overlap!r}")
    moment = clock.time() if now is None else now
    with engine.begin() as connection:
        known = (
            connection.execute(select(t.recipients.c.id).where(t.recipients.c.retired_at.is_(None)))
            .scalars()
            .all()
        )
        if recipient_id not in known:
            raise UnknownRecipient(
                f"there is no recipient {recipient_id!r}; the recipients are: "
                f"{', '.join(known) or 'none'}"
            )
        generation = generations(connection, recipient_id, moment)[0] + 1
        table = tt.webhook_secrets
        connection.execute(delete(table).where(table.c.recipient_id == recipient_id))
        connection.execute(
            insert(table).values(
                recipient_id=recipient_id,
                generation=generation,
                previous_until=moment + overlap,
                rotated_at=datetime.now(UTC),
            )
        )
        ledger.append(
            connection,
            signer,
            actor="operator",
            action="share.rotate-secret",
            target=f"recipient:{recipient_id}",
            counts={"generation": generation, "overlap_seconds": int(overlap)},
        )
    return RotatedSecret(
        recipient_id, generation, secrets.secret(recipient_id, generation), moment + overlap
    )
