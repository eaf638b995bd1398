"""Export a person's data: readings (decrypted), choices, receipts and their ledger entries.

The ZIP is written to a sink that is drained after every page of readings, so memory stays
constant however many readings a person has: zipfile writes to a stream that cannot seek by
putting each member's sizes in a data descriptor after its data (ZIP64 where needed).
With an age X25519 recipient the same stream is encrypted on the way out (pyrage), and only
the holder of the matching identity can open it: `age -d -i key.txt export.zip.age > export.zip`.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import math
import zipfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat
from operator import add
from typing import IO, Any, TypeVar

import pyrage
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, select

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import Keyring, Opened, ReadingOpener, held
from goodthings.core.store import (
    Order,
    Selection,
    moment_of,
    select_reading_columns,
    select_readings,
)
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.policy import inputs, people_concerned, reads
from goodthings.rights.consent import records as consent
from goodthings.rights.ledger_about import conditions_for

PAGE = 5000
_T = TypeVar("_T")

README = """\
Your data from {deployment}, exported on {when} UTC for {subject}.

Files in this archive:

  README.txt      this explanation.
  person.json     what the operator holds about you: your name, role, contact and places.
  readings.csv    every reading about you that is still stored, one per line:
                    device      the device that measured it
                    stream      what it measures (see the portal for a description)
                    time_utc    when, in UTC (ISO 8601); time_unix is the same in seconds
                                (time_utc is empty when the stored time is not a valid date)
                    value       the value, decrypted for you
                    shared      "yes" when the reading is about your household, not only you
  choices.json    every choice you or the operator recorded for you, oldest first, with the
                  time and the version (a SHA-256 hash) of the notice it was made under.
  receipts/       one signed receipt per choice. Check one with
                  `goodthings receipt verify receipts/<id>.json --public-key signing.pub`.
  ledger.jsonl    every entry of the hub's tamper-evident ledger that concerns you, one JSON
                  object per line: who did what, when, for which purpose, how many readings.
  erasure.json    your erasure requests and their receipts, if you made any.
  held-readings.csv, held-keys.csv
                  only if you hold your own key: your readings as the hub stores them
                  (encrypted; the hub cannot read them) and their keys, sealed to your age key.
                  Decrypt them with
                  `goodthings open-export THIS.zip --identity your-age-key.txt --out readings.csv`.

Readings that were made unreadable (erased) or never stored (because you did not agree) are
not in this archive. Questions: {contact}.
"""


class ExportError(GoodthingsError):
    """An export cannot be made as asked."""


@dataclass
class ExportCount:
    readings: int = 0
    watch: Callable[[int], None] | None = None
    """Told the running count after every page, so a command can show progress."""

    def add(self, readings: int) -> None:
        self.readings += readings
        if self.watch is not None:
            self.watch(self.readings)


class _Sink(io.RawIOBase):
    """A write-only stream whose bytes are taken out in chunks."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


class _IterReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks (to feed pyrage)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def parse_recipient(text: str) -> pyrage.x25519.Recipient:
    try:
        return pyrage.x25519.Recipient.from_str(text.strip())
    except (pyrage.RecipientError, ValueError):
        raise ExportError(
            f"{text.strip()[:20]!r}… is not an age public key; it starts with 'age1' "
            "(make one with `age-keygen`)"
        ) from None


def _subject_row(connection: Connection, subject_id: str) -> Any:
    row = (
        connection.execute(select(t.subjects).where(t.subjects.c.id == subject_id))
        .mappings()
        .first()
    )
    if row is None:
        raise ExportError(f"there is no subject {subject_id!r} in this deployment")
    return row


def iter_export(
    engine: Engine,
    keyring: Keyring,
    subject_id: str,
    *,
    count: ExportCount | None = None,
) -> Iterator[bytes]:
    """The ZIP's bytes, chunk by chunk, in constant memory."""
    count = count if count is not None else ExportCount()
    sink = _Sink()
    with engine.connect() as connection:
        person = dict(_subject_row(connection, subject_id))
        operator = connection.execute(select(t.operator)).mappings().first()
        with zipfile.ZipFile(
            sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        ) as archive:
            spec = operator["spec"] if operator else {}
            archive.writestr(
                "README.txt",
                README.format(
                    deployment=operator["deployment_name"] if operator else "this hub",
                    when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                    subject=person["name"],
                    contact=(spec.get("contact") or {}).get("email", "the operator"),
                ),
            )
            places = connection.execute(
                select(t.place_occupants.c.place_id).where(
                    t.place_occupants.c.subject_id == subject_id
                )
            ).scalars()
            archive.writestr(
                "person.json",
                json.dumps({**person, "places": sorted(places)}, indent=2, default=str),
            )
            yield sink.drain()
            with archive.open(_member("readings.csv"), "w", force_zip64=True) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(["device", "stream", "time_utc", "time_unix", "value", "shared"])
                pages = _reading_pages(connection, keyring, subject_id)
                yield from _deflated(text, pages, sink, count)
                text.flush()
                text.detach()
            if keyring.holds_own_key(subject_id):
                yield from _held_members(archive, sink, connection, subject_id, count)
            history = consent.history(connection, subject_id)
            archive.writestr(
                "choices.json",
                json.dumps([vars(record) for record in history], indent=2, default=str),
            )
            for receipt_id, document in connection.execute(
                select(tp.consent_receipts.c.id, tp.consent_receipts.c.document).where(
                    tp.consent_receipts.c.subject_id == subject_id
                )
            ):
                archive.writestr(f"receipts/{receipt_id}.json", document)
            yield sink.drain()
            with archive.open(_member("ledger.jsonl"), "w", force_zip64=True) as raw:
                for line in _ledger_lines(connection, subject_id):
                    raw.write(line)
            erasures = connection.execute(
                select(tp.erasure_requests).where(tp.erasure_requests.c.subject_id == subject_id)
            ).mappings()
            archive.writestr(
                "erasure.json", json.dumps([dict(row) for row in erasures], indent=2, default=str)
            )
        yield sink.drain()


def _deflated(
    text: io.TextIOWrapper, pages: Iterable[tuple[str, int]], sink: _Sink, count: ExportCount
) -> Iterator[bytes]:
    """Write each page's lines to the member, and yield the archive's bytes after each.

    A page is encoded and deflated in a thread of its own while the next one is read, opened
    and formatted: zlib lets go of the GIL while it compresses, so on two cores the two
    overlap. One page at a time is in that thread, and none while the bytes are handed out,
    so the sink is only ever written by one side and drained by the other in turn."""

    def write(lines: str) -> None:
        text.write(lines)
        text.flush()

    def finished(written: Future[None], size: int) -> bytes:
        written.result()
        count.add(size)
        return sink.drain()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-deflate") as deflating:
        pending: tuple[Future[None], int] | None = None
        for lines, size in pages:
            if pending is not None:
                yield finished(*pending)
            pending = deflating.submit(write, lines), size
        if pending is not None:
            yield finished(*pending)


def _held_members(
    archive: zipfile.ZipFile,
    sink: _Sink,
    connection: Connection,
    subject_id: str,
    count: ExportCount,
) -> Iterator[bytes]:
    """The person's readings as stored (sealed) and their sealed keys, for them to open."""
    names = {
        row.id: row.name for row in connection.execute(select(t.streams.c.id, t.streams.c.name))
    }
    selection = Selection(subject_id=subject_id, sealed_only=True, order=Order.id)
    with archive.open(_member("held-readings.csv"), "w", force_zip64=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        writer = csv.writer(text)
        writer.writerow(["device", "stream", "stream_id", "time_unix", "sealed"])
        for page in _pages(select_readings(connection, selection, batch=PAGE)):
            writer.writerows(
                (
                    row.device_id,
                    names.get(row.stream_id, ""),
                    row.stream_id,
                    repr(row.time),
                    base64.b64encode(row.sealed or b"").decode(),
                )
                for row in page
            )
            count.add(len(page))
            text.flush()
            yield sink.drain()
        text.flush()
        text.detach()
    keys = io.StringIO()
    writer = csv.writer(keys)
    writer.writerow(["prefix", "sealed_key"])
    for prefix, sealed in held.sealed_keys(connection, subject_id):
        writer.writerow([prefix, base64.b64encode(sealed).decode()])
    archive.writestr("held-keys.csv", keys.getvalue())
    yield sink.drain()


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _pages(rows: Iterable[_T]) -> Iterator[list[_T]]:
    """`rows` in lists of PAGE, so the archive is written and drained a page at a time."""
    rows = iter(rows)
    while page := list(itertools.islice(rows, PAGE)):
        yield page


def _reading_pages(
    connection: Connection, keyring: Keyring, subject_id: str
) -> Iterator[tuple[str, int]]:
    """The CSV lines of every reading about the person that can still be read, page by page,
    each with how many lines it holds.

    A page is read as columns and written without a Python step per reading where it can be:
    the time's repr, which is also the reading's associated data, is made once, its date once
    per second (`_iso_column`), and a page of numbers or booleans is joined in one go from its
    columns and the line's fixed fields (device, stream, shared), written once by the CSV
    writer (`_lines`).
    Other pages go through the CSV writer row by row; both give the same bytes."""
    facts = inputs.read_inputs(connection)
    opener = ReadingOpener(keyring, connection)
    for device in facts.devices:
        for rule in facts.rules.get(device.model_id, ()):
            if not reads.for_person(rule, device, subject_id).allowed:
                continue
            shared = "yes" if len(people_concerned(rule, device)) > 1 else "no"
            parts = _line_parts(device.device_id, rule.name, shared)
            pages = select_reading_columns(connection, device.device_id, rule.stream_id, batch=PAGE)
            for page in pages:
                kept, values, stamps = opener.readable_columns(
                    device.device_id, rule.stream_id, page
                )
                times = (
                    page.times if len(kept) == len(page.times) else [page.times[i] for i in kept]
                )
                isos = _iso_column(times)
                if _TEMPLATED.issuperset(map(type, values)):
                    yield _lines(parts, isos, stamps, values), len(values)
                    continue
                text = io.StringIO()
                csv.writer(text).writerows(
                    zip(
                        repeat(device.device_id),
                        repeat(rule.name),
                        isos,
                        stamps,
                        (value.hex() if isinstance(value, bytes) else value for value in values),
                        repeat(shared),
                    )
                )
                yield text.getvalue(), len(values)


_TEMPLATED = frozenset((float, bool))
"""The types of value `_lines` writes as the CSV writer does: it writes a float's
`repr` and any other value's `str`, which for a boolean is its `repr` too."""


def _line_parts(device_id: str, stream: str, shared: str) -> tuple[str, str, str, str]:
    """What surrounds the date, the time and the value in one CSV line of the stream: its
    fixed fields and separators as the CSV writer writes them (quoted if they need it)."""
    text = io.StringIO()
    csv.writer(text).writerow([device_id, stream, "\0", "\0", "\0", shared])
    before, after_date, after_time, after_value = text.getvalue().split("\0")
    return before, after_date, after_time, after_value


def _lines(
    parts: tuple[str, str, str, str], isos: list[str], stamps: list[str], values: list[Opened]
) -> str:
    """The CSV lines of a page of numbers or booleans, as the CSV writer writes them (a value's
    `repr`), joined in one go from the columns and the line's fixed parts."""
    before, after_date, after_time, after_value = parts
    return "".join(
        itertools.chain.from_iterable(
            zip(
                repeat(before),
                isos,
                repeat(after_date),
                stamps,
                repeat(after_time),
                map(repr, values),
                repeat(after_value),
            )
        )
    )


class _Minutes(dict[int, str]):
    """The ISO 8601 date and time of whole minutes up to the seconds ("2026-12-02T14:35:"),
    each made once."""

    def __missing__(self, minute: int) -> str:
        head = datetime.fromtimestamp(minute * 60, UTC).isoformat()[:-8]
        self[minute] = head
        return head


_SECONDS = tuple(f"{second:02d}" for second in range(60))


_LAST_DATE = 253402300800.0
"""10000-01-01T00:00:00Z: times from 1970 until then are dates `_iso_column` writes itself."""


def _iso_column(times: list[float]) -> list[str]:
    """`_iso_page(times)`, character for character, with no Python step per reading for times
    from 1970 to the year 9999 whose microseconds do not round up to a whole second: the
    whole seconds and the microseconds are each one `map`, each distinct second and
    microsecond is formatted once (a page holds few of either), and each date is one
    concatenation of the two. Any other page is left to `_iso_page`."""
    if not times or not (min(times) >= 0.0 and max(times) < _LAST_DATE - 1.0):
        return _iso_page(times)
    try:
        seconds = list(map(math.floor, times))
    except (OverflowError, ValueError):  # a NaN or infinity that min and max let through
        return _iso_page(times)
    # For a time of 0 or more, time % 1.0 is exact: it is the fraction math.modf gives.
    micros = list(map(round, map((1e6).__mul__, map((1.0).__rmod__, times))))
    if 1_000_000 in micros:
        return _iso_page(times)
    minutes = _Minutes()
    heads = {second: minutes[second // 60] + _SECONDS[second % 60] for second in set(seconds)}
    tails = {micro: f".{micro:06d}+00:00" if micro else "+00:00" for micro in set(micros)}
    return list(map(add, map(heads.__getitem__, seconds), map(tails.__getitem__, micros)))


def _iso(seconds: float) -> str:
    """The reading's date in ISO 8601, or empty when its stored time is not a valid date."""
    moment = moment_of(seconds)
    return "" if moment is None else moment.isoformat()


def _iso_page(times: Iterable[float]) -> list[str]:
    """`_iso` of each time, character for character, made cheaply for a page of readings: a
    page's readings fall in few seconds, so the date and time to the second are made once per
    second and only the microseconds per reading (making and formatting a datetime per reading
    cost more than decrypting it). One call per page, not per reading, for the same reason.

    The microseconds are rounded as `datetime.fromtimestamp` rounds them (half to even, a
    value that rounds to a whole million carried into the next second).
    """
    out: list[str] = []
    keep = out.append
    last: float | None = None
    head: str | None = None
    """`_iso` of the second `last` without its "+00:00"; None when that second is no date."""
    for seconds in times:
        try:
            fraction, second = math.modf(seconds)
            micro = round(fraction * 1e6)
        except (OverflowError, ValueError):  # infinity or NaN: no date
            keep(_iso(seconds))
            continue
        if micro >= 1_000_000:
            micro -= 1_000_000
            second += 1.0
        elif micro < 0:
            micro += 1_000_000
            second -= 1.0
        if second != last:
            moment = moment_of(second)
            last = second
            head = None if moment is None else moment.isoformat()[:-6]
        if head is None:
            keep("")
        elif micro:
            keep(f"{head}.{micro:06d}+00:00")
        else:
            keep(f"{head}+00:00")
    return out


def _ledger_lines(connection: Connection, subject_id: str) -> Iterator[bytes]:
    e = t.ledger_entries
    where = conditions_for(connection, subject_id)
    last = 0
    while True:
        rows = (
            connection.execute(select(e).where(where, e.c.seq > last).order_by(e.c.seq).limit(PAGE))
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield (json.dumps(dict(row), sort_keys=True, ensure_ascii=False) + "\n").encode()
        last = rows[-1]["seq"]


def export_subject(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    subject_id: str,
    out: IO[bytes],
    *,
    recipient: str | None = None,
    actor: str = "operator",
    watch: Callable[[int], None] | None = None,
) -> int:
    """Write the export to `out` (encrypted to `recipient` when given); returns how many
    readings it holds. The export is recorded in the ledger; `watch` is told the running count."""
    count = ExportCount(watch=watch)
    chunks = iter_export(engine, keyring, subject_id, count=count)
    if recipient is None:
        for chunk in chunks:
            out.write(chunk)
    else:
        pyrage.encrypt_io(_IterReader(chunks), out, [parse_recipient(recipient)])
    record_export(
        engine, signer, subject_id, count.readings, actor=actor, encrypted=recipient is not None
    )
    return count.readings


def record_export(
    engine: Engine,
    signer: Ed25519PrivateKey,
    subject_id: str,
    readings: int,
    *,
    actor: str,
    encrypted: bool,
) -> None:
    with engine.begin() as connection:
        ledger.append(
            connection,
            signer,
            actor=actor,
            action="export",
            target=f"subject:{subject_id}",
            counts={"readings": readings, "encrypted": int(encrypted)},
        )
