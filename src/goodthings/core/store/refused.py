"""The record of refused packs: who sent a pack the hub refused whole, when, why, and how big.

An operator needs to see that a device sends what the hub cannot use, without the record
becoming a second copy of personal data: it keeps the device, the time received, the refusal
and a message that quotes no value, the payload's size and SHA-256 (to match it with the
device's own log), and never the payload. It is bounded: writing a refusal prunes the ones
that fell out of the newest `keep`, by id, so each write deletes about as many rows as it adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from goodthings.core.store import tables as t

_r = t.refused_packs.c
_DEVICE_CHARACTERS = 63
"""The column's width: an id longer than any device's is cut (it names no device anyway)."""


@dataclass(frozen=True, slots=True)
class RefusedPack:
    """One refused pack as recorded: nothing in it is a value the device sent."""

    device_id: str
    received_at: float
    """Unix seconds."""
    refusal: str
    """The `Refusal` value: unknown_device, malformed, unknown_stream, ..."""
    message: str
    """What was wrong and where (record, field), with no value from the pack quoted."""
    content_type: str
    size: int
    """The payload's length in bytes."""
    sha256: str
    """The payload's SHA-256, in hex."""
    id: int | None = None
    """Set when read back; newer packs have larger ids."""


def record_refused(connection: Connection, packs: Sequence[RefusedPack], *, keep: int) -> None:
    """Add `packs` in `connection`'s transaction and forget all but the newest `keep`."""
    if not packs:
        return
    connection.execute(
        insert(t.refused_packs),
        [
            {
                "device_id": _cut(_text(pack.device_id)),
                "received_at": pack.received_at,
                "refusal": pack.refusal,
                "message": _text(pack.message),
                "content_type": _text(pack.content_type)[:64],
                "size": pack.size,
                "sha256": pack.sha256,
            }
            for pack in packs
        ],
    )
    newest = connection.execute(select(func.max(_r.id))).scalar_one()
    connection.execute(delete(t.refused_packs).where(_r.id <= newest - max(keep, 0)))


def select_refused(
    connection: Connection, *, device_id: str | None = None, limit: int | None = None
) -> list[RefusedPack]:
    """The recorded refusals, newest first, of one device or all."""
    query = select(t.refused_packs).order_by(_r.id.desc())
    if device_id is not None:
        query = query.where(_r.device_id == _cut(device_id))
    if limit is not None:
        query = query.limit(limit)
    return [
        RefusedPack(
            device_id=row.device_id,
            received_at=row.received_at,
            refusal=row.refusal,
            message=row.message,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            id=row.id,
        )
        for row in connection.execute(query)
    ]


def _text(text: str) -> str:
    """Text any database takes: PostgreSQL refuses NUL, and a refusal must always be recorded."""
    return text.replace("\x00", "\\u0000") if "\x00" in text else text


def _cut(device_id: str) -> str:
    if len(device_id) <= _DEVICE_CHARACTERS:
        return device_id
    return device_id[: _DEVICE_CHARACTERS - 1] + "…"


def count_refused_by_reason(connection: Connection) -> dict[str, int]:
    """How many of the kept refused packs each refusal accounts for."""
    rows = connection.execute(select(_r.refusal, func.count()).group_by(_r.refusal))
    return {str(refusal): int(count) for refusal, count in rows}
