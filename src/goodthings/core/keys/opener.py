"""Opening stored readings for one read: a value, or `UNREADABLE` when no key opens it.

Every read path opens sealed values here, so none of them catches key errors or skips rows on
its own. A value is unreadable when its holder's key was destroyed (erasure), when the person
holds the key themselves, or when the ciphertext does not match its key or its row; a
destroyed key never raises and never yields plaintext. The opener keeps each holder's cipher
for the length of one read, and drops them all as soon as its keyring shreds or forgets any
key, so a shred takes effect even in the middle of a read that started before it. A shred in
another process reaches a read when it starts (the keyring looks at `destroyed_keys` on the
read's connection) and, for a read under way, within 50 ms (`Keyring.follow`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import Enum

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from goodthings.core.keys.datakeys import (
    Keyring,
    UnreadableError,
    Value,
    context_at,
    open_sealed,
    row_prefix,
)
from goodthings.core.store import StoredReading


class Unreadable(Enum):
    """The marker for a sealed value that no key available to the hub opens."""

    UNREADABLE = "unreadable"


UNREADABLE = Unreadable.UNREADABLE

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

    def _cipher(self, holder: str | None) -> AESGCM | None:
        if holder is None:
            return None
        self._keyring.follow(self._engine)
        if self._generation != self._keyring.generation:
            self._ciphers.clear()
            self._generation = self._keyring.generation
        if holder not in self._ciphers:
            self._ciphers[holder] = self._keyring.cipher(self._connection, holder)
        return self._ciphers[holder]
