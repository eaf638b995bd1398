"""A person's own age key: the recipient their downloads are encrypted to, and taking their
data key into their own hands. One path for the portal and anything else that offers it."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, delete, insert, select

from goodthings.core import ledger
from goodthings.core.keys import Keyring, held
from goodthings.core.store import tables_portal as tp
from goodthings.policy import changes
from goodthings.rights.export import parse_recipient


def recipient_of(connection: Connection, subject_id: str) -> str | None:
    """The age public key the person registered, if any."""
    found = connection.execute(
        select(tp.subject_recipients.c.age_recipient).where(
            tp.subject_recipients.c.subject_id == subject_id
        )
    ).scalar()
    return None if found is None else str(found)


def register_recipient(
    engine: Engine, signer: Ed25519PrivateKey, subject_id: str, age_key: str
) -> None:
    """Encrypt the person's downloads to `age_key` from now on, or no longer when it is empty.

    Raises `ExportError` when the key is not an age public key; nothing is changed then.
    """
    key = age_key.strip()
    if key:
        parse_recipient(key)
    with engine.begin() as connection:
        connection.execute(
            delete(tp.subject_recipients).where(tp.subject_recipients.c.subject_id == subject_id)
        )
        if key:
            connection.execute(
                insert(tp.subject_recipients).values(
                    subject_id=subject_id, age_recipient=key, created_at=datetime.now(UTC)
                )
            )
        ledger.append(
            connection,
            signer,
            actor=f"subject:{subject_id}",
            action="portal.recipient",
            target=f"subject:{subject_id}",
            counts={"registered": int(bool(key))},
        )


def take_own_key(
    engine: Engine, keyring: Keyring, signer: Ed25519PrivateKey, subject_id: str, recipient: str
) -> None:
    """Hand the person their data key, sealed to `recipient`, and keep no copy the hub can open.

    Raises `HeldKeyError` when that cannot be done (not an age key, or already held).
    """
    held.hold_own_key(engine, keyring, signer, subject_id, recipient)
    changes.announce(engine)
