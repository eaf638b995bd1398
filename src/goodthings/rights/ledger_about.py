"""Which ledger entries concern a person: for the portal's activity page and for their export.

An application's read and a delivery to a recipient name the streams they covered, not the
people: they concern a person when one of those streams measures them on some device. A read
also counts what it returned per device (`returned.<device>`), so the person is shown what came
from their own devices.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, or_

from goodthings.core.store import tables as t
from goodthings.policy import inputs, people_concerned


@dataclass(frozen=True)
class About:
    """What of the deployment measures the person: their devices and those devices' streams."""

    devices: tuple[str, ...]
    streams: tuple[str, ...]
    """`model/name` of every personal stream about the person on one of `devices`."""


def about(connection: Connection, subject_id: str) -> About:
    """The current devices and streams that measure the person."""
    facts = inputs.read_inputs(connection)
    devices: set[str] = set()
    streams: set[str] = set()
    for device in facts.devices:
        for rule in facts.rules.get(device.model_id, ()):
            if subject_id in people_concerned(rule, device):
                devices.add(device.device_id)
                streams.add(f"{rule.model_id}/{rule.name}")
    return About(tuple(sorted(devices)), tuple(sorted(streams)))


def devices_about(connection: Connection, subject_id: str) -> list[str]:
    """Current devices with at least one stream about the person."""
    return list(about(connection, subject_id).devices)


def _names_stream(ref: str) -> ColumnElement[bool]:
    """A read's object, `stream:a/b,c/d`, lists `ref` (not a stream whose name merely starts so)."""
    o = t.ledger_entries.c.object
    return or_(
        o == f"stream:{ref}",
        o.startswith(f"stream:{ref},", autoescape=True),
        o.contains(f",{ref},", autoescape=True),
        o.endswith(f",{ref}", autoescape=True),
    )


def conditions_for(connection: Connection, subject_id: str) -> ColumnElement[bool]:
    """Which ledger entries concern the person: their own actions, changes about them, batches
    from devices that measure them, and reads, deliveries and purges of streams about them."""
    e = t.ledger_entries
    found = about(connection, subject_id)
    conditions = [
        e.c.actor == f"subject:{subject_id}",
        e.c.object.contains(f"subject:{subject_id}", autoescape=True),
    ]
    for device in found.devices:
        conditions.append(e.c.actor == f"device:{device}")
        conditions.append(
            (e.c.action == "ingest") & e.c.object.contains(f"{device},", autoescape=True)
        )
        conditions.append((e.c.action == "ingest") & e.c.object.endswith(device, autoescape=True))
    for ref in found.streams:
        conditions.append((e.c.action == "read") & _names_stream(ref))
        conditions.append(
            e.c.action.startswith("share") & e.c.object.endswith(f"/stream:{ref}", autoescape=True)
        )
        conditions.append((e.c.action == "purge") & (e.c.object == f"stream:{ref}"))
    return or_(*conditions)
