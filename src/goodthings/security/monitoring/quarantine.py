"""Quarantine: cut a device off everywhere at once, and give it back only on the operator's word.

A quarantine is written to the store (an event that every worker's pipeline sees at its next
refresh, and a hub in this process at once, so nothing from the device is stored after it), recorded in the ledger, and pushed to
the brokers: the embedded one refuses the device's sign-in and publishes, Mosquitto's dynamic
security disables its client, which also closes its connection. Releasing does the reverse, and
needs a reason, because someone decided the device can be trusted again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, select

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.store import monitoring
from goodthings.core.store import tables as t
from goodthings.core.store.monitoring import Quarantine
from goodthings.policy import changes

logger = logging.getLogger(__name__)

QUARANTINE = "quarantine"
RELEASE = "release"


class QuarantineError(GoodthingsError):
    """A quarantine or release that cannot be done as asked."""


class BrokerGate(Protocol):
    """A broker that can shut a device out and let it back in."""

    def cut_off(self, device_id: str) -> None: ...

    def restore(self, device_id: str) -> None: ...


def quarantine(
    engine: Engine,
    signer: Ed25519PrivateKey,
    device_id: str,
    *,
    reason: str,
    actor: str,
    detection_id: int | None = None,
    brokers: Iterable[BrokerGate] = (),
) -> Quarantine:
    """Quarantine a device (again asking changes nothing: the first quarantine stands)."""
    reason = _reason(reason)
    with engine.begin() as connection:
        _known(connection, device_id)
        current = monitoring.current_quarantines(connection).get(device_id)
        if current is not None:
            return current
        now = datetime.now(UTC)
        event = monitoring.record_quarantine_event(
            connection,
            {
                "at": now,
                "device_id": device_id,
                "action": QUARANTINE,
                "actor": actor,
                "reason": reason,
                "detection_id": detection_id,
            },
        )
        _ledger(connection, signer, actor, QUARANTINE, device_id, reason, event)
    changes.announce(engine)  # a hub in this process refuses the device's next pack
    _each(brokers, device_id, cut=True)
    return Quarantine(device_id, now, actor, reason, detection_id)


def release(
    engine: Engine,
    signer: Ed25519PrivateKey,
    device_id: str,
    *,
    reason: str,
    actor: str,
    brokers: Iterable[BrokerGate] = (),
) -> None:
    """Let a quarantined device send again."""
    reason = _reason(reason)
    with engine.begin() as connection:
        _known(connection, device_id)
        if device_id not in monitoring.current_quarantines(connection):
            raise QuarantineError(f"device {device_id!r} is not quarantined; nothing to release")
        event = monitoring.record_quarantine_event(
            connection,
            {
                "at": datetime.now(UTC),
                "device_id": device_id,
                "action": RELEASE,
                "actor": actor,
                "reason": reason,
                "detection_id": None,
            },
        )
        _ledger(connection, signer, actor, RELEASE, device_id, reason, event)
    changes.announce(engine)
    _each(brokers, device_id, cut=False)


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise QuarantineError(
            "say why, with --reason: the reason is kept in the ledger and shown to the people "
            "the device is about"
        )
    return reason


def _known(connection: Connection, device_id: str) -> None:
    found = connection.execute(select(t.devices.c.id).where(t.devices.c.id == device_id)).first()
    if found is None:
        raise QuarantineError(f"there is no device {device_id!r} in this deployment")


def _ledger(
    connection: Connection,
    signer: Ed25519PrivateKey,
    actor: str,
    action: str,
    device_id: str,
    reason: str,
    event: int,
) -> None:
    ledger.append(
        connection,
        signer,
        actor=actor,
        action=action,
        target=f"device:{device_id}",
        counts={"event": event},
        digest=ledger.content_digest([device_id.encode(), reason.encode()]),
    )


def _each(brokers: Iterable[BrokerGate], device_id: str, *, cut: bool) -> None:
    """Tell every broker; one that fails is logged, the store's quarantine holds regardless."""
    for broker in brokers:
        try:
            if cut:
                broker.cut_off(device_id)
            else:
                broker.restore(device_id)
        except Exception as error:  # a broker's fault must not undo the quarantine
            logger.error(
                "could not %s device %r on the broker (%s); the hub refuses its packs anyway",
                "cut off" if cut else "restore",
                device_id,
                type(error).__name__,
            )
