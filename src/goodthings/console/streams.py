"""Streams and consent in aggregate: per stream what is collected, why, on what legal basis, for
how long and how finely, how many readings it holds and since when, and how many people said
yes or no to each purpose. Counts only: never who (a request names its person in the register)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from goodthings.core.manifest import CONSENT_TYPES
from goodthings.core.store import count_by_stream, oldest_by_stream, stored_text
from goodthings.core.store import tables as t


@dataclass(frozen=True)
class PurposeCount:
    purpose: str
    legal_basis: str | None
    how: str
    yes: int
    """People whose newest choice for this purpose is yes."""
    no: int
    """People whose newest choice is no (a withdrawal)."""

    @property
    def asks_consent(self) -> bool:
        """Whether the purpose rests on consent, so that yes and no mean anything."""
        return self.legal_basis in CONSENT_TYPES


@dataclass(frozen=True)
class StreamSummary:
    id: int
    model: str
    name: str
    description: str
    unit: str | None
    personal: bool
    data_category: str | None
    retention: str | None
    minimisation: tuple[str, ...]
    purposes: tuple[PurposeCount, ...]
    readings: int
    oldest: datetime | None


def _choices(connection: Connection) -> dict[tuple[int, str], tuple[int, int]]:
    """(stream, purpose) -> (yes, no), from each person's newest choice."""
    c = t.consents.c
    newest = (
        select(func.max(c.id).label("id"))
        .group_by(c.subject_id, c.stream_id, c.purpose, c.recipient_id)
        .subquery()
    )
    rows = connection.execute(
        select(c.stream_id, c.purpose, c.state, func.count(func.distinct(c.subject_id)))
        .join(newest, newest.c.id == c.id)
        .group_by(c.stream_id, c.purpose, c.state)
    )
    counts: dict[tuple[int, str], tuple[int, int]] = {}
    for stream, purpose, state, people in rows:
        yes, no = counts.get((stream, purpose), (0, 0))
        counts[(stream, purpose)] = (yes + people, no) if state == "given" else (yes, no + people)
    return counts


def streams(connection: Connection) -> list[StreamSummary]:
    """Every current stream, by model and name."""
    held, oldest, choices = (
        count_by_stream(connection),
        oldest_by_stream(connection),
        _choices(connection),
    )
    s, p = t.streams.c, t.purposes.c
    uses: dict[int, list[PurposeCount]] = {}
    for stream, purpose, basis, how in connection.execute(
        select(p.stream_id, p.purpose, p.legal_basis, p.how).order_by(p.stream_id, p.purpose)
    ):
        yes, no = choices.get((stream, purpose), (0, 0))
        uses.setdefault(stream, []).append(PurposeCount(purpose, basis, how, yes, no))
    rows = connection.execute(
        select(s.id, s.model_id, s.name, s.personal, s.spec)
        .where(s.retired_at.is_(None))
        .order_by(s.model_id, s.name)
    )
    return [
        StreamSummary(
            id=number,
            model=model,
            name=name,
            description=stored_text(spec.get("description")),
            unit=spec.get("unit"),
            personal=personal,
            data_category=spec.get("data_category"),
            retention=spec.get("retention"),
            minimisation=tuple(spec.get("minimisation", ["exact", "off"])),
            purposes=tuple(uses.get(number, [])),
            readings=held.get(number, 0),
            oldest=datetime.fromtimestamp(oldest[number], UTC) if number in oldest else None,
        )
        for number, model, name, personal, spec in rows
    ]
