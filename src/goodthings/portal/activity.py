"""Who used my data: the ledger's entries about one person, newest first, in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from goodthings.core.manifest import PURPOSES
from goodthings.core.store import tables as t
from goodthings.rights.ledger_about import conditions_for

_ACTIONS = {
    "ingest": "Readings arrived from a device",
    "read": "Readings were used",
    "consent.give": "A choice was switched on",
    "consent.withdraw": "A choice was switched off",
    "portal.sign_in": "You signed in to this portal",
    "portal.sign_out": "You signed out",
    "portal.read": "You looked at your latest readings",
    "portal.recipient": "You registered a key for encrypted downloads",
    "keys.held": "You took the key to your readings",
    "export": "A copy of your data was downloaded",
    "erase.request": "Erasure was requested",
    "erase.unreadable": "Your readings were made unreadable",
    "erase.done": "Your readings were deleted",
}


@dataclass(frozen=True)
class Activity:
    seq: int
    time: str
    who: str
    what: str
    detail: str
    purpose: str | None
    readings: int


def _who(actor: str, subject_id: str) -> str:
    if actor == f"subject:{subject_id}":
        return "You"
    kind, _, name = actor.partition(":")
    return {
        "device": f"Device {name}",
        "operator": "The operator",
        "application": f"Application {name}",
        "recipient": f"Recipient {name}",
        "hub": "The hub",
    }.get(kind, actor)


def _purpose_words(purpose: str | None) -> str | None:
    if purpose is None or purpose not in PURPOSES:
        return purpose
    return PURPOSES.get(purpose).label


_REASONS = {
    "no_consent": "you had not agreed",
    "level_off": "you chose off",
    "duplicate": "already stored",
    "retired": "the device was retired",
}
_COUNTS = {"received": "received", "stored": "kept", "readings": "readings"}


def _detail(counts: dict[str, int]) -> str:
    """The entry's counts in words; counts that only repeat the action are left out."""
    parts = []
    for name, number in sorted(counts.items()):
        if name.startswith("dropped."):
            reason = name.removeprefix("dropped.")
            parts.append(f"{number} not kept ({_REASONS.get(reason, reason.replace('_', ' '))})")
        elif name in _COUNTS:
            parts.append(f"{number} {_COUNTS[name]}")
        elif name == "encrypted" and number:
            parts.append("encrypted to your key")
        elif name == "by_code":
            parts.append("with a code")
        elif name == "by_link":
            parts.append("with a link")
    return ", ".join(parts)


def activity(connection: Connection, subject_id: str, limit: int = 200) -> list[Activity]:
    """The newest `limit` ledger entries that concern the person."""
    e = t.ledger_entries
    rows = connection.execute(
        select(e)
        .where(conditions_for(connection, subject_id))
        .order_by(e.c.seq.desc())
        .limit(limit)
    ).mappings()
    found = []
    for row in rows:
        counts = row["counts"] or {}
        readings = int(counts.get("stored", 0) or counts.get("readings", 0) or 0)
        found.append(
            Activity(
                seq=row["seq"],
                time=row["time"],
                who=_who(row["actor"], subject_id),
                what=_ACTIONS.get(row["action"], row["action"]),
                detail=_detail(counts),
                purpose=_purpose_words(row["purpose"]),
                readings=readings,
            )
        )
    return found
