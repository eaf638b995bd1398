"""People's requests and their legal deadlines, in one register for the data protection officer.

GDPR Art. 12(3): a request is answered within one month of receipt; where necessary, taking
into account the complexity and number of requests, that may be extended by two further
months, and the person is told why within the first month. The register gathers:

- erasure requests (`erasure_requests`, from the portal or `goodthings erase`), with the
  deadline they were recorded with;
- exports and objections made in the portal: answered the moment they were made;
- requests that reached people rather than the portal (a letter, an email, a call), recorded
  here by the officer (`record`) and answered here (`answer`) with what was sent.

An open request whose deadline has passed is overdue; the dashboard and
`goodthings requests list --overdue` show it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Connection, insert, select, update

from goodthings.core.errors import GoodthingsError
from goodthings.core.moments import add_months, in_utc
from goodthings.core.store import tables as t
from goodthings.core.store import tables_console as tc
from goodthings.core.store import tables_portal as tp
from goodthings.core.store import tables_transparency as tt


class Kind(StrEnum):
    """What a person asked for."""

    access = "access"
    """A copy of what the hub holds about them and how it is used (Art. 15)."""
    export = "export"
    """Their data in a machine-readable form (Art. 20)."""
    erasure = "erasure"
    """That their data be erased (Art. 17)."""
    objection = "objection"
    """That processing, profiling or automated decisions about them stop (Art. 21, 22)."""


class RequestError(GoodthingsError):
    """A request that does not exist, is answered already, or cannot be changed so."""


OPEN, ANSWERED = "open", "answered"
EXTENSION_MONTHS = 2


@dataclass(frozen=True)
class Request:
    reference: str
    """`erasure:<id>`, `export:<ledger seq>`, `objection:<id>` or `register:<id>`."""
    kind: Kind
    subject: str
    received_at: datetime
    deadline: datetime
    state: str
    """"open" or "answered"."""
    channel: str
    answered_at: datetime | None
    sent: str
    """What the person was sent, in words; empty while open."""
    receipt: str | None
    """The signed receipt (JSON), when one was issued."""
    extension_reason: str | None

    def overdue(self, now: datetime) -> bool:
        return self.state == OPEN and now > self.deadline

    def days_left(self, now: datetime) -> int:
        return (self.deadline - now).days


def _extensions(connection: Connection) -> dict[str, tuple[datetime, str]]:
    e = tc.request_extensions.c
    rows = connection.execute(select(e.request, e.deadline, e.reason))
    return {ref: (in_utc(deadline), reason) for ref, deadline, reason in rows}


def _erasures(connection: Connection) -> list[Request]:
    rows = connection.execute(select(tp.erasure_requests)).mappings()
    found = []
    for row in rows:
        done = row["state"] == "done"
        sent = ""
        if done:
            sent = (
                "erasure receipt; readings kept only as unlinked daily aggregates"
                if row["mode"] == "unlinked"
                else f"erasure receipt; {row['readings_purged'] or 0} readings deleted"
            )
        found.append(
            Request(
                reference=f"erasure:{row['id']}",
                kind=Kind.erasure,
                subject=row["subject_id"],
                received_at=in_utc(row["requested_at"]),
                deadline=in_utc(row["deadline"]),
                state=ANSWERED if done else OPEN,
                channel=row["method"],
                answered_at=in_utc(row["completed_at"]) if row["completed_at"] else None,
                sent=sent,
                receipt=row["receipt"],
                extension_reason=None,
            )
        )
    return found


def _answered_at_once(connection: Connection) -> list[Request]:
    """Exports and objections the portal carried out when they were asked for."""
    found = []
    e = t.ledger_entries.c
    for seq, time, target in connection.execute(
        select(e.seq, e.time, e.object).where(e.action == "export")
    ):
        moment = datetime.fromisoformat(time.replace("Z", "+00:00"))
        found.append(
            Request(
                f"export:{seq}",
                Kind.export,
                target.removeprefix("subject:"),
                moment,
                add_months(moment, 1),
                ANSWERED,
                "portal",
                moment,
                "export archive",
                None,
                None,
            )
        )
    o = tt.objections.c
    for number, subject, state, method, created in connection.execute(
        select(o.id, o.subject_id, o.state, o.method, o.created_at)
    ):
        moment = in_utc(created)
        sent = "objection recorded" if state != "withdrawn" else "objection withdrawn"
        found.append(
            Request(
                f"objection:{number}",
                Kind.objection,
                subject,
                moment,
                add_months(moment, 1),
                ANSWERED,
                method,
                moment,
                sent,
                None,
                None,
            )
        )
    return found


def _registered(connection: Connection) -> list[Request]:
    return [
        Request(
            reference=f"register:{row['id']}",
            kind=Kind(row["kind"]),
            subject=row["subject_id"],
            received_at=in_utc(row["received_at"]),
            deadline=in_utc(row["deadline"]),
            state=ANSWERED if row["answered_at"] else OPEN,
            channel=row["channel"],
            answered_at=in_utc(row["answered_at"]) if row["answered_at"] else None,
            sent=row["sent"] or "",
            receipt=None,
            extension_reason=None,
        )
        for row in connection.execute(select(tc.subject_requests)).mappings()
    ]


def all_requests(connection: Connection) -> list[Request]:
    """Every request, open ones first by deadline, then answered ones, newest first."""
    extended = _extensions(connection)
    found = []
    for request in _erasures(connection) + _answered_at_once(connection) + _registered(connection):
        if request.reference in extended:
            deadline, reason = extended[request.reference]
            request = replace(request, deadline=deadline, extension_reason=reason)
        found.append(request)
    open_ = sorted((r for r in found if r.state == OPEN), key=lambda r: r.deadline)
    answered = sorted((r for r in found if r.state != OPEN), key=lambda r: r.received_at)
    return open_ + answered[::-1]


def find(connection: Connection, reference: str) -> Request:
    for request in all_requests(connection):
        if request.reference == reference:
            return request
    raise RequestError(f"there is no request {reference!r}")


def record(
    connection: Connection,
    kind: Kind,
    subject: str,
    received_at: datetime,
    channel: str,
    note: str,
    recorded_by: str,
) -> str:
    """Register a request that came by letter, email or call; its deadline runs from receipt."""
    if not subject.strip():
        raise RequestError("say who asked: the person's id as the manifest names them")
    if received_at > datetime.now(UTC):
        raise RequestError("a request cannot have been received in the future")
    number = connection.execute(
        insert(tc.subject_requests).values(
            kind=kind.value,
            subject_id=subject.strip(),
            received_at=received_at,
            deadline=add_months(received_at, 1),
            channel=channel,
            note=note.strip(),
            recorded_by=recorded_by,
        )
    ).inserted_primary_key
    assert number is not None
    return f"register:{number[0]}"


def answer(connection: Connection, reference: str, sent: str) -> None:
    """Mark a registered request answered, saying what was sent."""
    request = find(connection, reference)
    if not reference.startswith("register:"):
        raise RequestError(
            "only requests recorded here are answered here; an erasure is carried out by "
            "`goodthings erase`, which signs its receipt"
        )
    if request.state != OPEN:
        raise RequestError("this request was answered already")
    if not sent.strip():
        raise RequestError("say what was sent, so the register shows it")
    connection.execute(
        update(tc.subject_requests)
        .where(tc.subject_requests.c.id == int(reference.removeprefix("register:")))
        .values(answered_at=datetime.now(UTC), sent=sent.strip())
    )


def extend(connection: Connection, reference: str, reason: str, extended_by: str) -> datetime:
    """Extend an open request's deadline by two months, once, with the reason it needs."""
    request = find(connection, reference)
    if request.state != OPEN:
        raise RequestError("an answered request needs no more time")
    if request.extension_reason is not None:
        raise RequestError("this deadline was extended already: GDPR Art. 12(3) allows it once")
    if not reason.strip():
        raise RequestError("give the reason: the person must be told why it takes longer")
    now = datetime.now(UTC)
    if now > request.deadline:
        raise RequestError("the deadline has passed: an extension must be made within it")
    deadline = add_months(request.deadline, EXTENSION_MONTHS)
    connection.execute(
        insert(tc.request_extensions).values(
            request=reference,
            deadline=deadline,
            reason=reason.strip(),
            extended_by=extended_by,
            created_at=now,
        )
    )
    return deadline
