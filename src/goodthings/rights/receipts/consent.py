"""Consent receipts under ISO/IEC TS 27560 (`record.py` shapes them): issued in the transaction
that records the change."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, insert, select

from goodthings.core.manifest import in_language
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.rights.receipts.ledger_position import position
from goodthings.rights.receipts.record import ConsentEvent, Party, build, role_of
from goodthings.rights.receipts.signing import sign


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
    manage_at: str | None = None,
    representative_contact: str | None = None,
) -> str:
    """Sign and store the receipt of one consent change; returns the receipt's id.

    Called after the change's ledger entry is appended, so the receipt's `ledger` position is
    that entry. `manage_at` is where the person changes their choices (the portal);
    `representative_contact` is how to reach the representative who gave it, as the manifest
    says (27560 asks a contact of every party)."""
    purpose = str(values["purpose"])
    use: Mapping[str, Any] = next(
        (u for u in spec.get("purposes", []) if u.get("purpose") == purpose), {}
    )
    operator = connection.execute(select(t.operator)).mappings().one()
    operator_spec: Mapping[str, Any] = operator["spec"]
    recipients: list[Party] = []
    if values.get("recipient_id"):
        row = (
            connection.execute(
                select(t.recipients).where(t.recipients.c.id == values["recipient_id"])
            )
            .mappings()
            .one()
        )
        recipients.append(
            Party(
                key=f"recipient:{row['id']}",
                name=row["name"],
                role=role_of(row["kind"]),
                contact=row["spec"].get("contact", {}),
            )
        )
    language = connection.execute(
        select(t.subjects.c.language).where(t.subjects.c.id == values["subject_id"])
    ).scalar_one()
    created: datetime = values["created_at"]
    receipt_id = str(uuid.uuid4())
    event = ConsentEvent(
        receipt_id=receipt_id,
        deployment_id=operator["deployment_id"],
        consent_id=consent_id,
        subject_id=values["subject_id"],
        language=language,
        stream=stream_label,
        purpose=purpose,
        how=in_language(use.get("how"), language) or None,
        legal_basis=use.get("legal_basis"),
        special_category_condition=use.get("special_category_condition"),
        data_category=spec.get("data_category"),
        retention=spec.get("retention"),
        state=values["state"],
        level=values["level"],
        method=values["method"],
        time=created.isoformat(),
        notice_hash=values.get("notice_hash"),
        country=operator_spec.get("country"),
        controller=Party(
            key="controller",
            name=operator["legal_name"],
            role="dpv:DataController",
            contact=operator_spec.get("contact", {}),
        ),
        recipients=recipients,
        manage_at=manage_at,
        ledger=position(connection),
        given_by=values.get("given_by"),
        given_by_contact=representative_contact,
    )
    connection.execute(
        insert(tp.consent_receipts).values(
            id=receipt_id,
            consent_id=consent_id,
            subject_id=values["subject_id"],
            created_at=created,
            document=sign(build(event), signer),
        )
    )
    return receipt_id


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
