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

from collections.abc import Iterable, Iterator, Sequence
from enum import Enum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from goodthings.core.keys.datakeys import (
    Keyring,
    UnreadableError,
    Value,
    context_at,
    decode_value,
    open_sealed,
    row_prefix,
)
from goodthings.core.store import StoredReading


class Unreadable(Enum):
    """The marker for a sealed value that no key available to the hub opens."""

    UNREADABLE = "unreadable"


UNREADABLE = Unreadable.UNREADABLE
_NOBODY = object()
"""No holder yet: differs from every subject id and from None (a reading of no one)."""

Opened = Value | None
"""A reading's value in clear; None when the reading carries no value."""


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
        opened: list[tuple[StoredReading, Opened]] = []
        keep = opened.append
        row: tuple[str, int] | None = None
        prefix = b""
        holder: object = _NOBODY
        cipher: AESGCM | None = None
        for reading in page:
            sealed = reading.sealed
            if sealed is None:
                keep((reading, reading.plain))
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
            keep((reading, decode_value(data)))
        return opened

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
