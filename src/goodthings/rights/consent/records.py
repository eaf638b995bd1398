"""Give, withdraw and show consent: one code path for the CLI, the API and the portal.

Each change is a new row (history is never rewritten), a ledger entry and a signed consent
receipt, in one transaction. It records the version (hash) of the notice the person was shown.
A hub in the same process is told at once (`policy.changes`); every other hub process
notices the new row within its gate's refresh interval.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, or_, select

from goodthings.core import ledger
from goodthings.core.errors import PolicyError
from goodthings.core.ledger import content_digest
from goodthings.core.manifest import is_consent
from goodthings.core.manifest.schema import Representative
from goodthings.core.store import declared
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.policy import changes
from goodthings.rights.receipts import consent as receipts
from goodthings.transparency.notices import published as notices


@dataclass(frozen=True)
class ConsentChange:
    subject_id: str
    stream: str
    """A stream name, or `model-id/stream-name` where the name alone is ambiguous."""
    purpose: str
    recipient: str | None = None
    level: str = "exact"
    method: str = "cli"
    notice_hash: str | None = None
    """The version of the notice the person was shown; the deployment's current one if None."""
    manage_at: str | None = None
    """Where the person changes their choices (the portal's address); the receipt names it as
    how to withdraw, else the controller's contact."""
    by_representative: bool = False
    """Given by the person's declared representative (manifest: `represented_by`) for them."""


@dataclass(frozen=True)
class ConsentRecord:
    id: int
    subject_id: str
    stream: str
    purpose: str
    recipient: str | None
    state: str
    level: str
    notice_hash: str | None
    method: str
    created_at: datetime
    receipt_id: str | None = None
    """The signed consent receipt issued for this change."""
    given_by: str | None = None
    """The representative who made the change on the person's behalf, by name and relationship."""


@dataclass(frozen=True)
class _Stream:
    id: int
    model_id: str
    name: str
    spec: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.model_id}/{self.name}"


def give(engine: Engine, signer: Ed25519PrivateKey, change: ConsentChange) -> ConsentRecord:
    return _record(engine, signer, change, "given")


def withdraw(engine: Engine, signer: Ed25519PrivateKey, change: ConsentChange) -> ConsentRecord:
    return _record(engine, signer, change, "withdrawn")


def _record(
    engine: Engine, signer: Ed25519PrivateKey, change: ConsentChange, state: str
) -> ConsentRecord:
    with engine.begin() as connection:
        stream = _subjects_stream(connection, change.subject_id, change.stream)
        _check_purpose(stream, change)
        representative = (
            _representative(connection, change, stream) if change.by_representative else None
        )
        given_by = (
            f"{representative.name} ({representative.relationship})"
            if representative is not None
            else None
        )
        level = change.level if state == "given" else "off"
        notice = _notice_version(connection, change.notice_hash)
        now = datetime.now(UTC)
        values = {
            "subject_id": change.subject_id,
            "stream_id": stream.id,
            "purpose": change.purpose,
            "recipient_id": change.recipient,
            "state": state,
            "level": level,
            "notice_hash": notice,
            "method": change.method,
            "created_at": now,
            "given_by": given_by,
        }
        record_id = connection.execute(insert(t.consents).values(**values)).inserted_primary_key
        assert record_id is not None
        body = {**values, "stream": stream.label, "created_at": now.isoformat()}
        if given_by is None:
            del body["given_by"]  # the same digest as before the column existed
        actor = "operator" if change.method == "cli" else f"subject:{change.subject_id}"
        if given_by is not None:
            actor = f"representative of subject:{change.subject_id}"
        ledger.append(
            connection,
            signer,
            actor=actor,
            action=f"consent.{'give' if state == 'given' else 'withdraw'}",
            target=f"subject:{change.subject_id}/stream:{stream.label}"
            + (f"/recipient:{change.recipient}" if change.recipient else ""),
            purpose=change.purpose,
            counts={state: 1},
            digest=content_digest([json.dumps(body, sort_keys=True, default=str).encode()]),
        )
        receipt_id = receipts.issue(
            connection,
            signer,
            consent_id=int(record_id[0]),
            values=values,
            stream_label=stream.label,
            spec=stream.spec,
            manage_at=change.manage_at,
            representative_contact=representative.contact if representative else None,
        )
    changes.announce(engine)
    return ConsentRecord(
        id=int(record_id[0]),
        subject_id=change.subject_id,
        stream=stream.label,
        purpose=change.purpose,
        recipient=change.recipient,
        state=state,
        level=level,
        notice_hash=notice,
        method=change.method,
        created_at=now,
        receipt_id=receipt_id,
        given_by=given_by,
    )


def _representative(
    connection: Connection, change: ConsentChange, stream: _Stream
) -> Representative:
    """Who decides for the person here, as the manifest declares; refused when nobody does."""
    manifest = notices.applied_manifest(connection)
    subjects = manifest.subjects if manifest is not None else []
    subject = next((s for s in subjects if s.id == change.subject_id), None)
    representative = subject.represented_by if subject is not None else None
    if representative is None:
        raise PolicyError(
            f"the manifest names no representative for {change.subject_id!r}; declare one "
            "under the subject's `represented_by` (docs/manifest.md)"
        )
    if representative.streams and stream.name not in representative.streams:
        raise PolicyError(
            f"{representative.name} decides for {change.subject_id!r} only on "
            f"{', '.join(representative.streams)}, not on {stream.label}"
        )
    assert manifest is not None  # a subject was found in it
    devices = [d for d in manifest.devices if d.model == stream.model_id]
    if representative.places and not any(d.place in representative.places for d in devices):
        raise PolicyError(
            f"{representative.name} decides for {change.subject_id!r} only in "
            f"{', '.join(representative.places)}; {stream.label} is not collected there"
        )
    return representative


def _notice_version(connection: Connection, shown: str | None) -> str:
    """The hash of the notice the consent is given under: one the hub recorded showing."""
    if shown is None:
        return notices.record_version(connection, notices.current_notice(connection))
    if notices.recorded_version(connection, shown) is None:
        raise PolicyError(
            f"there is no notice version {shown!r}; send the hash of the notice the person was "
            "shown (its page names it), or none for the current one"
        )
    return shown


def _subjects_stream(connection: Connection, subject_id: str, ref: str) -> _Stream:
    """The personal stream `ref` on a device that is about `subject_id`."""
    if not declared.is_current_subject(connection, subject_id):
        raise PolicyError(f"there is no subject {subject_id!r} in this deployment")
    candidates = _streams_about(connection, subject_id)
    model_id, _, name = ref.rpartition("/")
    matches = [s for s in candidates if s.name == name and (not model_id or s.model_id == model_id)]
    if not matches:
        known = ", ".join(sorted({s.name for s in candidates})) or "none"
        raise PolicyError(
            f"{subject_id!r} has no personal stream {ref!r}; their streams are: {known}"
        )
    if len(matches) > 1:
        options = " or ".join(s.label for s in matches)
        raise PolicyError(f"several device models have a stream {ref!r}; say {options}")
    return matches[0]


def _streams_about(connection: Connection, subject_id: str) -> list[_Stream]:
    """Personal streams on devices the subject owns or wears, or in places they occupy."""
    places = select(t.place_occupants.c.place_id).where(
        t.place_occupants.c.subject_id == subject_id
    )
    devices = connection.execute(
        select(t.devices.c.model_id, t.devices.c.subject_id, t.devices.c.place_id).where(
            t.devices.c.retired_at.is_(None),
            or_(t.devices.c.subject_id == subject_id, t.devices.c.place_id.in_(places)),
        )
    ).all()
    occupied = set(connection.execute(places).scalars())
    streams = connection.execute(
        select(t.streams).where(
            t.streams.c.retired_at.is_(None),
            t.streams.c.personal.is_(True),
            t.streams.c.model_id.in_({d.model_id for d in devices}),
        )
    ).all()
    found: dict[int, _Stream] = {}
    for row in streams:
        about = row.spec.get("about")
        for device in devices:
            if device.model_id != row.model_id:
                continue
            owns = about in {"owner", "wearer"} and device.subject_id == subject_id
            occupies = about == "occupant" and device.place_id in occupied
            if owns or occupies:
                found[row.id] = _Stream(row.id, row.model_id, row.name, row.spec)
    return list(found.values())


def _check_purpose(stream: _Stream, change: ConsentChange) -> None:
    uses = {use["purpose"]: use for use in stream.spec["purposes"]}
    use = uses.get(change.purpose)
    if use is None:
        raise PolicyError(
            f"{stream.label} is not collected for {change.purpose}; "
            f"its purposes are: {', '.join(sorted(uses))}"
        )
    if change.recipient is not None:
        shares = [
            share
            for share in stream.spec.get("recipients", [])
            if share["recipient"] == change.recipient and share["purpose"] == change.purpose
        ]
        if not shares:
            raise PolicyError(
                f"{stream.label} is not shared with {change.recipient!r} for {change.purpose}"
            )
    elif not is_consent(use.get("legal_basis")):
        raise PolicyError(
            f"{stream.label} is used for {change.purpose} on the legal basis "
            f"{use.get('legal_basis')}, not consent, so there is no consent to give or withdraw"
        )
    levels = stream.spec.get("minimisation") or ["exact", "off"]
    if change.level not in levels:
        raise PolicyError(
            f"{stream.label} can be collected at these levels: {', '.join(levels)}; "
            f"not {change.level!r}"
        )


def consent_purposes(
    connection: Connection, subject_id: str, *, method: str = "cli"
) -> list[ConsentChange]:
    """Every (stream, purpose) the subject can consent to, as changes ready to give."""
    return [
        ConsentChange(subject_id, stream.label, use["purpose"], method=method)
        for stream in sorted(_streams_about(connection, subject_id), key=lambda s: s.label)
        for use in stream.spec["purposes"]
        if is_consent(use.get("legal_basis"))
    ]


def history(connection: Connection, subject_id: str) -> list[ConsentRecord]:
    """Every consent change of a subject, oldest first."""
    rows = connection.execute(
        select(
            t.consents,
            t.streams.c.model_id,
            t.streams.c.name,
            tp.consent_receipts.c.id.label("receipt_id"),
        )
        .join(t.streams, t.streams.c.id == t.consents.c.stream_id)
        .outerjoin(tp.consent_receipts, tp.consent_receipts.c.consent_id == t.consents.c.id)
        .where(t.consents.c.subject_id == subject_id)
        .order_by(t.consents.c.id)
    ).mappings()
    return [
        ConsentRecord(
            id=row["id"],
            subject_id=row["subject_id"],
            stream=f"{row['model_id']}/{row['name']}",
            purpose=row["purpose"],
            recipient=row["recipient_id"],
            state=row["state"],
            level=row["level"],
            notice_hash=row["notice_hash"],
            method=row["method"],
            created_at=row["created_at"],
            receipt_id=row["receipt_id"],
            given_by=row["given_by"],
        )
        for row in rows
    ]
