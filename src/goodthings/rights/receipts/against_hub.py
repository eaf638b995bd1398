"""A receipt checked against the deployment that issued it, beyond its signature.

A signature proves the hub once said this; the deployment shows whether it still does: the
ledger entry the receipt names must be there with the same hash, the consent record it refers to
must say the same (person, purpose, state, time), and the hub must hold this very receipt for
it. Each disagreement is named, so the person or the auditor knows which side changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.rights.receipts.contents import summary, version_of
from goodthings.rights.receipts.signing import canonical


def disagreements(connection: Connection, receipt: Mapping[str, Any]) -> list[str]:
    """What the deployment says differently from a verified receipt; empty when it agrees."""
    found = _ledger(connection, receipt.get("ledger"))
    if receipt.get("kind") == "consent":
        found += _record(connection, receipt)
    return found


def _ledger(connection: Connection, where: Any) -> list[str]:
    if not isinstance(where, dict):
        return []
    seq, hash_ = where["seq"], where["hash"]
    held = connection.execute(
        select(t.ledger_entries.c.hash).where(t.ledger_entries.c.seq == seq)
    ).scalar_one_or_none()
    if held is None:
        return [f"the ledger has no entry {seq}, which the receipt saw: it was cut or rolled back"]
    if held != hash_:
        return [f"ledger entry {seq} has another hash than the receipt saw: it was rewritten"]
    return []


def _ids(receipt: Mapping[str, Any]) -> tuple[str, str, int | None]:
    """The receipt's id, its deployment (empty for version 1) and the consent record's number."""
    if version_of(receipt) == 1:
        return str(receipt["record_id"]), "", receipt.get("consent_id")
    record_id = str(receipt["dpv:hasRecordOfActivity"]["dct:identifier"])
    deployment, _, number = record_id.partition("/consent/")
    return str(receipt["dct:identifier"]), deployment, int(number) if number.isdigit() else None


def _record(connection: Connection, receipt: Mapping[str, Any]) -> list[str]:
    receipt_id, deployment, consent_id = _ids(receipt)
    if deployment:
        ours = connection.execute(select(t.operator.c.deployment_id)).scalar_one_or_none()
        if ours != deployment:
            return [f"the receipt is of deployment {deployment!r}, not of this one ({ours!r})"]
    row = (
        connection.execute(select(t.consents).where(t.consents.c.id == consent_id))
        .mappings()
        .first()
    )
    if row is None:
        return [f"the deployment holds no consent record {consent_id}, which the receipt names"]
    facts = summary(receipt)
    found = [
        f"the consent record's {name} is {held!r}, the receipt says {said!r}"
        for name, held, said in (
            ("person", row["subject_id"], facts.subject_id),
            ("purpose", row["purpose"], facts.purposes[0] if facts.purposes else None),
            ("state", row["state"], facts.state),
        )
        if held != said
    ]
    stored = connection.execute(
        select(tp.consent_receipts.c.document).where(
            tp.consent_receipts.c.id == receipt_id,
            tp.consent_receipts.c.consent_id == consent_id,
        )
    ).scalar_one_or_none()
    if stored is None:
        found.append(f"the deployment issued no receipt {receipt_id} for consent {consent_id}")
    elif canonical(json.loads(stored)["receipt"]) != canonical(receipt):
        found.append(f"the deployment's copy of receipt {receipt_id} says something else")
    return found
