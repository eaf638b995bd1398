"""Consent receipts after ISO/IEC TS 27560: issued in the transaction that records the change."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, select

from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.rights.receipts.ledger_position import position
from goodthings.rights.receipts.signing import sign

SCHEMA = "goodthings consent receipt v1 (after ISO/IEC TS 27560)"


def controller(connection: Connection) -> dict[str, Any]:
    """Who is responsible for the processing, as the manifest names them."""
    row = connection.execute(select(t.operator)).mappings().first()
    if row is None:
        return {"name": None, "contact": None}
    contact = row["spec"].get("contact", {}) if isinstance(row["spec"], dict) else {}
    dpo = row["spec"].get("data_protection_contact") if isinstance(row["spec"], dict) else None
    return {
        "name": row["legal_name"],
        "contact": contact.get("email") if isinstance(contact, dict) else None,
        "data_protection_contact": dpo,
    }


def issue(
    connection: Connection,
    signer: Ed25519PrivateKey,
    *,
    consent_id: int,
    values: Mapping[str, Any],
    stream_label: str,
    spec: Mapping[str, Any],
) -> str:
    """Sign and store the receipt of one consent change; returns the receipt's id.

    Called after the change's ledger entry is appended, so the receipt's `ledger` position is
    that entry."""
    purpose = str(values["purpose"])
    use: Mapping[str, Any] = next(
        (u for u in spec.get("purposes", []) if u.get("purpose") == purpose), {}
    )
    recipients: list[dict[str, Any]] = []
    if values.get("recipient_id"):
        share: Mapping[str, Any] = next(
            (
                s
                for s in spec.get("recipients", [])
                if s.get("recipient") == values["recipient_id"] and s.get("purpose") == purpose
            ),
            {},
        )
        name = connection.execute(
            select(t.recipients.c.name).where(t.recipients.c.id == values["recipient_id"])
        ).scalar_one_or_none()
        recipients.append({"id": values["recipient_id"], "name": name, "terms": share.get("terms")})
    created: datetime = values["created_at"]
    record_id = str(uuid.uuid4())
    receipt = {
        "kind": "consent",
        "schema": SCHEMA,
        "record_id": record_id,
        "consent_id": consent_id,
        "subject": {"id": values["subject_id"]},
        "controller": controller(connection),
        "stream": stream_label,
        "purposes": [{"purpose": purpose, "how": use.get("how")}],
        "data_categories": [spec["data_category"]] if spec.get("data_category") else [],
        "recipients": recipients,
        "legal_basis": use.get("legal_basis"),
        "level": values["level"],
        "retention": spec.get("retention"),
        "notice": {"version_hash": values.get("notice_hash")},
        "time": created.isoformat(),
        "method": values["method"],
        "state": values["state"],
        "ledger": position(connection),
    }
    connection.execute(
        insert(tp.consent_receipts).values(
            id=record_id,
            consent_id=consent_id,
            subject_id=values["subject_id"],
            created_at=created,
            document=sign(receipt, signer),
        )
    )
    return record_id


def receipts_of(connection: Connection, subject_id: str) -> dict[int, str]:
    """Receipt id per consent record id, for a person's history."""
    rows = connection.execute(
        select(tp.consent_receipts.c.consent_id, tp.consent_receipts.c.id).where(
            tp.consent_receipts.c.subject_id == subject_id
        )
    )
    return {int(consent_id): str(receipt_id) for consent_id, receipt_id in rows}


def document(connection: Connection, subject_id: str, receipt_id: str) -> str | None:
    """A person's receipt as signed JSON, or None when it is not theirs or does not exist."""
    return connection.execute(
        select(tp.consent_receipts.c.document).where(
            tp.consent_receipts.c.id == receipt_id,
            tp.consent_receipts.c.subject_id == subject_id,
        )
    ).scalar_one_or_none()
