"""Who used my data: the ledger's entries about one person, a week at a time, in plain words.

A week's page puts uses first (an application read their readings, a recipient received them:
who, for what purpose, how many readings, when), one row per user, purpose and day, then what
the person and the operator did, one by one, then the routine arrivals and purges counted per
day. Weeks are the pages: "last week" is one page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from goodthings.core.manifest import in_language
from goodthings.core.store import tables as t
from goodthings.portal.actions import ROUTINE, USES, words
from goodthings.portal.i18n import translations
from goodthings.portal.words import purpose_words
from goodthings.rights.ledger_about import about, conditions_for
from goodthings.transparency.notices import applied_manifest

DAYS_PER_PAGE = 7


@dataclass(frozen=True)
class Use:
    """Someone used the person's data, perhaps several times that day."""

    day: date
    first: str
    """`HH:MM` of the first and last time that day (UTC)."""
    last: str
    who: str
    what: str
    purpose: str | None
    readings: int
    times: int


@dataclass(frozen=True)
class Event:
    time: str
    """`YYYY-MM-DD HH:MM` (UTC)."""
    who: str
    what: str
    detail: str
    purpose: str | None
    representative: str | None = None
    """Who acted for the person (a guardian), as the consent records name them."""


@dataclass(frozen=True)
class Routine:
    """The hub's routine work of one kind on one day, counted."""

    day: date
    what: str
    times: int
    detail: str


@dataclass(frozen=True)
class Week:
    start: date
    end: date
    """The last day shown (inclusive)."""
    uses: list[Use] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    routine: list[Routine] = field(default_factory=list)
    older: bool = False
    """Whether anything about the person happened before `start`."""


@dataclass(frozen=True)
class _Names:
    applications: Mapping[str, str]
    recipients: Mapping[str, str]
    devices: Mapping[str, str]

    @classmethod
    def read(cls, connection: Connection, language: str = "en") -> _Names:
        """The names as stored, those the operator gave by language in `language`."""

        def names(table: Any) -> dict[str, str]:
            return {
                row.id: row.name or row.id
                for row in connection.execute(select(table.c.id, table.c.name))
            }

        applications, devices = names(t.applications), names(t.devices)
        manifest = applied_manifest(connection)
        if manifest is not None:
            applications |= {a.id: in_language(a.name, language) for a in manifest.applications}
            devices |= {d.id: in_language(d.name, language) for d in manifest.devices if d.name}
        return cls(applications, names(t.recipients), devices)


REPRESENTATIVE = "representative of subject:"
"""How the ledger names a representative acting for a person (`rights.consent`)."""


def _representatives(connection: Connection, subject_id: str) -> list[tuple[str, str]]:
    """(time, name and relationship) of every choice a representative made for the person,
    oldest first: the ledger says that a representative acted, the consent records say who."""
    c = t.consents
    rows = connection.execute(
        select(c.c.created_at, c.c.given_by)
        .where(c.c.subject_id == subject_id, c.c.given_by.is_not(None))
        .order_by(c.c.created_at)
    )
    return [(_iso(at), given_by) for at, given_by in rows]


def _iso(at: Any) -> str:
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _representative_at(moment: str, known: list[tuple[str, str]]) -> str | None:
    """The representative whose recorded choice is nearest the ledger entry's time."""
    if not known:
        return None
    at = datetime.fromisoformat(_iso(moment))
    return min(known, key=lambda k: abs(datetime.fromisoformat(k[0]) - at))[1]


def _who(actor: str, target: str, subject_id: str, names: _Names) -> str:
    if actor == f"subject:{subject_id}":
        return "You"
    kind, _, name = actor.partition(":")
    if actor == "hub:sharing" and target.startswith("recipient:"):
        recipient = target.removeprefix("recipient:").partition("/")[0]
        return names.recipients.get(recipient, recipient)
    if kind == "application":
        return names.applications.get(name, name)
    if kind == "device":
        return names.devices.get(name, name)
    if kind == "operator" or actor == "operator":
        return "The operator"
    if actor.startswith(REPRESENTATIVE):
        return "Your representative"
    return "The hub"


_REASONS = {
    "no_consent": "not agreed to",
    "level_off": "the choice was off",
    "duplicate": "already stored",
    "retired": "the device was retired",
    "objected": "someone objected",
}
_COUNTS = {
    "received": "%(number)d received",
    "stored": "%(number)d kept",
    "readings": "%(number)d readings",
    "deleted": "%(number)d deleted",
    "delivered": "%(number)d sent",
}


def _detail(counts: Mapping[str, int], language: str = "en") -> str:
    """The entry's counts in words, in `language`; counts that only repeat the action are left
    out."""
    _ = translations(language).gettext
    parts = []
    for name, number in sorted(counts.items()):
        if name.startswith("dropped."):
            reason = name.removeprefix("dropped.")
            why = _(_REASONS[reason]) if reason in _REASONS else reason.replace("_", " ")
            parts.append(_("%(number)d not kept (%(why)s)") % {"number": number, "why": why})
        elif name in _COUNTS:
            parts.append(_(_COUNTS[name]) % {"number": number})
        elif name == "encrypted" and number:
            parts.append(_("encrypted to your key"))
        elif name == "by_code":
            parts.append(_("with a code"))
        elif name == "by_link":
            parts.append(_("with a link"))
    return ", ".join(parts)


def _readings_used(action: str, counts: Mapping[str, int], devices: Iterable[str]) -> int | None:
    """How many of the person's readings a use handed out; None when it concerned others only."""
    if action != "read":
        return int(counts.get("delivered", 0))
    mine = [f"returned.{device}" for device in devices]
    if not any(key.startswith("returned.") for key in counts):
        return int(counts.get("returned", 0))  # a read from before reads counted per device
    if not any(key in counts for key in mine):
        return None
    return sum(int(counts.get(key, 0)) for key in mine)


def _window(weeks_back: int, today: date) -> tuple[date, date]:
    end = today - timedelta(days=DAYS_PER_PAGE * weeks_back)
    return end - timedelta(days=DAYS_PER_PAGE - 1), end


def week(
    connection: Connection,
    subject_id: str,
    weeks_back: int = 0,
    today: date | None = None,
    language: str = "en",
) -> Week:
    """What happened with the person's data in the seven days ending `weeks_back` weeks ago,
    the names the operator gave by language in `language`."""
    start, end = _window(max(0, weeks_back), today or datetime.now(UTC).date())
    low, high = start.isoformat(), (end + timedelta(days=1)).isoformat()
    e = t.ledger_entries
    concerns = conditions_for(connection, subject_id)
    mine = about(connection, subject_id).devices
    names = _Names.read(connection, language)
    representatives = _representatives(connection, subject_id)
    rows = connection.execute(
        select(e.c.time, e.c.actor, e.c.action, e.c.object, e.c.purpose, e.c.counts)
        .where(concerns, e.c.time >= low, e.c.time < high)
        .order_by(e.c.seq.desc())
    ).mappings()
    uses: dict[tuple[date, str, str, str | None], list[Any]] = {}
    routine: dict[tuple[date, str], list[Any]] = defaultdict(lambda: [0, defaultdict(int)])
    events: list[Event] = []
    for row in rows:
        moment, action, counts = row["time"], row["action"], row["counts"] or {}
        day = date.fromisoformat(moment[:10])
        clock = moment[11:16]
        if action in USES:
            readings = _readings_used(action, counts, mine)
            if readings is None:
                continue
            who = _who(row["actor"], row["object"], subject_id, names)
            key = (day, who, action, row["purpose"])
            found = uses.setdefault(key, [clock, clock, 0, 0])
            found[0] = min(found[0], clock)
            found[1] = max(found[1], clock)
            found[2] += readings
            found[3] += 1
        elif action in ROUTINE:
            counted = routine[(day, action)]
            counted[0] += 1
            for name, number in counts.items():
                counted[1][name] += int(number)
        else:
            events.append(
                Event(
                    time=f"{moment[:10]} {clock}",
                    who=_who(row["actor"], row["object"], subject_id, names),
                    what=words(action),
                    detail=_detail(counts, language),
                    purpose=purpose_words(row["purpose"]),
                    representative=(
                        _representative_at(moment, representatives)
                        if row["actor"].startswith(REPRESENTATIVE)
                        else None
                    ),
                )
            )
    older = connection.execute(select(e.c.seq).where(concerns, e.c.time < low).limit(1)).first()
    return Week(
        start=start,
        end=end,
        uses=[
            Use(day, first, last, who, words(action), purpose_words(purpose), readings, times)
            for (day, who, action, purpose), (first, last, readings, times) in uses.items()
        ],
        events=events,
        routine=[
            Routine(day, words(action), times, _detail(counts, language))
            for (day, action), (times, counts) in routine.items()
        ],
        older=older is not None,
    )
