"""Reading your own data is processing too: the portal records it like any other read."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core import ledger


def record_own_read(
    engine: Engine, signer: Ed25519PrivateKey, subject_id: str, readings: int
) -> None:
    """A ledger entry for the person's latest readings decrypted and shown to them."""
    with engine.begin() as connection:
        ledger.append(
            connection,
            signer,
            actor=f"subject:{subject_id}",
            action="portal.read",
            target=f"subject:{subject_id}",
            counts={"readings": readings},
        )
