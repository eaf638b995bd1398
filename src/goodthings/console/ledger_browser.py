"""The ledger for people: entries filtered by actor, action, subject and time, a page at a time
(newest first), an export of a range as JSON lines for an auditor, and a verdict in words.

The export holds each entry whole (its hashes and the previous entry's hash), so the auditor's
own tools can check the chain within the range; `goodthings ledger verify` checks all of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Row, Select, or_, select

from goodthings.core import ledger
from goodthings.core.store import tables as t

PAGE = 50
_e = t.ledger_entries.c


@dataclass(frozen=True)
class Filters:
    actor: str = ""
    action: str = ""
    subject: str = ""
    """An entry's object (`subject:alex`, `device:meter-1`) or what it is part of
    (`subject:alex/stream:...`); a bare id matches a person or a device of that id."""
    since: date | None = None
    until: date | None = None
    """Inclusive: the whole day."""

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.actor:
            statement = statement.where(_e.actor == self.actor.strip())
        if self.action:
            statement = statement.where(_e.action == self.action.strip())
        if self.subject:
            wanted = self.subject.strip()
            named = [wanted, f"subject:{wanted}", f"device:{wanted}"]
            statement = statement.where(
                or_(
                    _e.object.in_(named),
                    *(_e.object.startswith(f"{name}/", autoescape=True) for name in named),
                )
            )
        if self.since:
            statement = statement.where(_e.time >= self.since.isoformat())
        if self.until:
            statement = statement.where(_e.time < (self.until + timedelta(days=1)).isoformat())
        return statement


@dataclass(frozen=True)
class Page:
    entries: tuple[ledger.Entry, ...]
    older: int | None
    """The `before` of the next page, None on the last."""


def _entry(row: Row[Any]) -> ledger.Entry:
    mapping = row._mapping
    return ledger.Entry(**{field: mapping[field] for field in _FIELDS})


_FIELDS = (
    *("seq", "time", "actor", "action", "object"),
    *("purpose", "counts", "digest", "prev_hash", "hash"),
)


def browse(connection: Connection, filters: Filters, before: int | None = None) -> Page:
    """Up to `PAGE` entries matching `filters`, newest first, all older than `before`."""
    statement = filters.apply(select(t.ledger_entries))
    if before is not None:
        statement = statement.where(_e.seq < before)
    rows = connection.execute(statement.order_by(_e.seq.desc()).limit(PAGE + 1)).all()
    found = tuple(_entry(row) for row in rows[:PAGE])
    return Page(found, found[-1].seq if len(rows) > PAGE else None)


def actions(connection: Connection) -> list[str]:
    """Every action the ledger holds, for the filter's choices."""
    return list(connection.execute(select(_e.action).distinct().order_by(_e.action)).scalars())


def export_lines(connection: Connection, first: int, last: int) -> Iterator[str]:
    """Entries `first` to `last` (inclusive), one JSON object a line, in order."""
    statement = select(t.ledger_entries).where(_e.seq >= first, _e.seq <= last).order_by(_e.seq)
    for row in connection.execute(statement):
        entry = _entry(row)
        yield json.dumps({field: getattr(entry, field) for field in _FIELDS}, sort_keys=True) + "\n"


def in_words(result: ledger.VerifyResult) -> str:
    """The verdict as a person reads it."""
    if not result.ok:
        where = f" at entry {result.first_bad_seq}" if result.first_bad_seq is not None else ""
        return (
            f"The ledger is NOT intact{where}: {result.reason}. Entries may have been changed, "
            "removed or reordered; keep a copy of the database and tell whoever audits the hub."
        )
    tail = (
        f" The newest {result.unsigned_tail} entries are chained but not yet signed."
        if result.unsigned_tail
        else ""
    )
    return (
        f"The ledger is intact: {result.entries} entries, each linked to the one before, and "
        f"{result.checkpoints} signed checkpoints whose signatures match the hub's key.{tail}"
    )
