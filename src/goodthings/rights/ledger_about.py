"""Which ledger entries concern a person: for the portal's activity page and for their export."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, or_

from goodthings.core.store import tables as t
from goodthings.policy import inputs, people_concerned


def devices_about(connection: Connection, subject_id: str) -> list[str]:
    """Current devices with at least one stream about the person."""
    facts = inputs.read_inputs(connection)
    return sorted(
        {
            device.device_id
            for device in facts.devices
            for rule in facts.rules.get(device.model_id, ())
            if subject_id in people_concerned(rule, device)
        }
    )


def conditions_for(connection: Connection, subject_id: str) -> ColumnElement[bool]:
    """Which ledger entries concern the person: their own actions, changes about them, and
    batches from devices that measure them."""
    e = t.ledger_entries
    conditions = [
        e.c.actor == f"subject:{subject_id}",
        e.c.object.contains(f"subject:{subject_id}", autoescape=True),
    ]
    for device in devices_about(connection, subject_id):
        conditions.append(e.c.actor == f"device:{device}")
        conditions.append(
            (e.c.action == "ingest") & e.c.object.contains(f"{device},", autoescape=True)
        )
        conditions.append((e.c.action == "ingest") & e.c.object.endswith(device, autoescape=True))
    return or_(*conditions)
