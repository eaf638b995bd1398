"""Opening stored readings for one read: a value, or `UNREADABLE` when no key opens it.

Every read path opens sealed values here, so none of them catches key errors or skips rows on
its own. A value is unreadable when its holder's key was destroyed (erasure), when the person
holds the key themselves, or when the ciphertext does not match its key or its row; a
destroyed key never raises and never yields plaintext. The opener keeps each holder's cipher
for the length of one read, and drops them all as soon as its keyring shreds or forgets any
key, so a shred takes effect even in the middle of a read that started before it. A shred in
another process reaches a read when it starts (the keyring looks at `destroyed_keys` on the
read's connection) and, for a read under way, within 50 ms (`Keyring.follow`).

A long read (a person's export) opens a page at a time (`readable_page`): one freshness check
and one key lookup per holder for the page, not per reading, and the page is opened again if
the keyring shredded or forgot a key while it was being opened, so no value opened with a key
destroyed before the page was handed back ever leaves it.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterable, Iterator, Sequence
from enum import Enum
from operator import itemgetter
from typing import NamedTuple, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from goodthings.core.keys.datakeys import (
    Keyring,
    UnreadableError,
    Value,
    context_at,
    decode_value,
    encode_value,
    open_sealed,
    row_prefix,
)
from goodthings.core.store import ReadingColumns, StoredReading


class Unreadable(Enum):
    """The marker for a sealed value that no key available to the hub opens."""

    UNREADABLE = "unreadable"


UNREADABLE = Unreadable.UNREADABLE
_NOBODY = object()
"""No holder yet: differs from every subject id and from None (a reading of no one)."""

Opened = Value | None
"""A reading's value in clear; None when the reading carries no value."""


class Columns(NamedTuple):
    """The readable readings of a page of columns (`ReadingOpener.readable_columns`)."""

    kept: Sequence[int]
    """Their places in the page, in order."""
    values: list[Opened]
    """Their values in clear."""
    stamps: list[str]
    """Their times' repr: what their associated data holds, and what an export writes."""


_NONCE, _CIPHERTEXT = itemgetter(slice(None, 12)), itemgetter(slice(12, None))
_NUMBERS = struct.Struct(">xd")
"""A sealed number's plaintext (`encode_value`): its type tag, skipped, then the double."""
_NUMBER_TAG = encode_value(0.0)[:1]
_FIRST = itemgetter(0)


class ReadingOpener:
    """Opens the readings of one read on one connection, with the keyring's keys."""

    def __init__(self, keyring: Keyring, connection: Connection) -> None:
        self._keyring = keyring
        self._connection = connection
        keyring.forget_destroyed(connection)
        self._engine = connection.engine
        self._ciphers: dict[str, AESGCM | None] = {}
        self._generation = keyring.generation
        self._row: tuple[str, int] | None = None
        self._prefix = b""

    def open(self, reading: StoredReading) -> Opened | Unreadable:
        """The reading's value in clear, or `UNREADABLE`."""
        sealed = reading.sealed
        if sealed is None:
            return reading.plain
        cipher = self._cipher(reading.subject_id)
        if cipher is None:
            return UNREADABLE
        row = (reading.device_id, reading.stream_id)
        if row != self._row:
            self._row, self._prefix = row, row_prefix(*row)
        try:
            return open_sealed(cipher, sealed, context_at(self._prefix, reading.time))
        except UnreadableError:
            return UNREADABLE

    def readable(self, readings: Iterable[StoredReading]) -> Iterator[tuple[StoredReading, Opened]]:
        """Each reading that can be read, with its value in clear; unreadable ones are left out."""
        for reading in readings:
            value = self.open(reading)
            if value is not UNREADABLE:
                yield reading, value

    def readable_page(self, page: Sequence[StoredReading]) -> list[tuple[StoredReading, Opened]]:
        """What `readable` gives for `page`, opened in one go: the per-reading checks of `open`
        cost more than the decryption, so they are made once for the page (a page of a few
        thousand opens in milliseconds, well inside `Keyring.follow`'s 50 ms)."""
        while True:
            self._refresh()
            generation = self._generation
            opened = self._open_page(page)
            if self._keyring.generation == generation:
                return opened
            # A key was shredded or found destroyed while the page was opened: open it again
            # without it, so nothing it opened is handed back.

    def _open_page(self, page: Sequence[StoredReading]) -> list[tuple[StoredReading, Opened]]:
        return [(page[index], value) for index, value in self._opened(page)]

    def _opened(self, page: Sequence[StoredReading]) -> Iterator[tuple[int, Opened]]:
        """Each readable reading of `page` by its place in it, with its value in clear."""
        row: tuple[str, int] | None = None
        prefix = b""
        holder: object = _NOBODY
        cipher: AESGCM | None = None
        for index, reading in enumerate(page):
            sealed = reading.sealed
            if sealed is None:
                yield index, reading.plain
                continue
            if reading.subject_id != holder:
                holder = reading.subject_id
                cipher = self._known_cipher(reading.subject_id)
            if cipher is None:
                continue
            if (reading.device_id, reading.stream_id) != row:
                row = (reading.device_id, reading.stream_id)
                prefix = row_prefix(*row)
            try:
                # `open_sealed` and `context_at`, inlined: their calls cost as much as the
                # decryption itself.
                data = cipher.decrypt(
                    sealed[:12], sealed[12:], prefix + repr(reading.time).encode()
                )
            except (InvalidTag, ValueError):
                continue
            yield index, decode_value(data)

    def readable_columns(self, device_id: str, stream_id: int, page: ReadingColumns) -> Columns:
        """What `readable_page` gives for a page of one device's stream, as columns: the
        readable readings' places in the page, their values in clear, and their times' repr.

        A page sealed under one holder's key, the usual one, is opened without a Python step
        per reading: the associated data (the row's part made once, then each time's repr,
        which the export also writes) and the decryption are each one `map` over the page, and
        numbers are decoded in one unpacking, other values (booleans, texts) once per distinct
        plaintext. Only the values of a page in which one does not open (a tampered value,
        another key's) are decrypted one at a time; a page with values in clear or of several
        holders is opened a reading at a time. Each gives what `readable_page` gives."""
        while True:
            self._refresh()
            generation = self._generation
            opened = self._open_columns(device_id, stream_id, page)
            if self._keyring.generation == generation:
                return opened
            # A key was shredded or found destroyed meanwhile: open the page again without it.

    def _open_columns(self, device_id: str, stream_id: int, page: ReadingColumns) -> Columns:
        count = len(page.times)
        stamps = list(map(repr, page.times))
        if page.sealed.count(None) == count and page.value_texts.count(None) == count:
            return Columns(range(count), list(page.values), stamps)  # plain numbers
        holder = page.subject_ids[0] if count else None
        if None in page.sealed or page.subject_ids.count(holder) != count:
            return self._open_rows(device_id, stream_id, page, stamps)
        cipher = self._known_cipher(holder)
        if cipher is None:
            return Columns((), [], [])
        prefix = row_prefix(device_id, stream_id)
        sealed = cast(list[bytes], page.sealed)  # no None in it, as just checked
        kept, plain = _decrypted(
            cipher,
            list(map(_NONCE, sealed)),
            list(map(_CIPHERTEXT, sealed)),
            list(map(prefix.__add__, map(str.encode, stamps))),
        )
        values = _numbers(plain)
        if values is None:
            values = list(map(_Decoded().__getitem__, plain))
        if len(kept) == count:
            return Columns(kept, values, stamps)
        return Columns(kept, values, [stamps[index] for index in kept])

    def _open_rows(
        self, device_id: str, stream_id: int, page: ReadingColumns, stamps: list[str]
    ) -> Columns:
        """A page that is not all sealed under one holder, opened a reading at a time."""
        readings = [
            StoredReading(0, device_id, stream_id, *row)
            for row in zip(
                page.subject_ids,
                page.times,
                page.values,
                page.value_texts,
                page.sealed,
                strict=True,
            )
        ]
        kept: list[int] = []
        values: list[Opened] = []
        for index, value in self._opened(readings):
            kept.append(index)
            values.append(value)
        return Columns(kept, values, [stamps[index] for index in kept])

    def _cipher(self, holder: str | None) -> AESGCM | None:
        self._refresh()
        return self._known_cipher(holder)

    def _refresh(self) -> None:
        """Look for keys destroyed elsewhere (at most every 50 ms) and drop the cached ciphers
        if the keyring shredded or forgot any key since they were taken."""
        self._keyring.follow(self._engine)
        if self._generation != self._keyring.generation:
            self._ciphers.clear()
            self._generation = self._keyring.generation

    def _known_cipher(self, holder: str | None) -> AESGCM | None:
        if holder is None:
            return None
        if holder not in self._ciphers:
            self._ciphers[holder] = self._keyring.cipher(self._connection, holder)
        return self._ciphers[holder]


def _decrypted(
    cipher: AESGCM, nonces: list[bytes], ciphertexts: list[bytes], associated: list[bytes]
) -> tuple[Sequence[int], list[bytes]]:
    """The places of the values that open and their plaintexts: in one `map` when all of them
    open, else one at a time, leaving out those that do not (a tampered value, or a page of
    values sealed under another key), each still tried."""
    try:
        return range(len(nonces)), list(map(cipher.decrypt, nonces, ciphertexts, associated))
    except (InvalidTag, ValueError):
        pass
    decrypt = cipher.decrypt
    kept: list[int] = []
    plain: list[bytes] = []
    for index, nonce, ciphertext, data in zip(itertools.count(), nonces, ciphertexts, associated):
        try:
            plain.append(decrypt(nonce, ciphertext, data))
        except (InvalidTag, ValueError):
            continue
        kept.append(index)
    return kept, plain


def _numbers(plain: list[bytes]) -> list[Opened] | None:
    """The values of plaintexts that are all sealed numbers, decoded in one unpacking of their
    joined bytes; None when any is not a number."""
    count = len(plain)
    if list(map(len, plain)).count(_NUMBERS.size) != count:
        return None
    joined = b"".join(plain)
    if joined[:: _NUMBERS.size] != _NUMBER_TAG * count:
        return None
    return list(map(_FIRST, _NUMBERS.iter_unpack(joined)))


class _Decoded(dict[bytes, Opened]):
    """`decode_value` of each distinct plaintext, made once: a page of booleans (or of a few
    texts) holds only a few, so its values are one dictionary look-up each."""

    def __missing__(self, plain: bytes) -> Opened:
        value = self[plain] = decode_value(plain)
        return value
