"""Per-person data keys: each holder's readings are encrypted under a key of their own.

A data key is 32 random bytes, stored only wrapped (AES-GCM) under the deployment's master key,
with the holder's id as associated data so a wrapped key cannot be moved to another holder.
Wrapped keys live in the key vault (`keys/data/`, `goodthings.core.keys.vault`), never in the
database: destroying a holder's key file makes every reading under it unreadable at once
(crypto-shredding), in the database, its WAL pages and every database backup, whether taken
with `goodthings backup`, pg_dump or a file copy, because none of them holds the key. What it
does not reach: a copy of `keys/` taken before the erasure, opened without the deployment's
erasure journal (the journal destroys such a key file when it is read), and a key the person
holds themselves (docs/operations.md, "Backups and erasure").

Values are sealed one by one, so a single reading can be read, exported or purged; the nonce is
a random 8-byte prefix per batch plus a 4-byte counter, and the associated data binds each
ciphertext to its device, stream and time so it cannot be swapped with another row's.

A person may hold their own key (`goodthings.core.keys.held`): then each batch is sealed under a
fresh key that is itself sealed to the person's age public key, and the keyring keeps no key
that opens their readings.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, insert, select

from goodthings.core.errors import GoodthingsError
from goodthings.core.keys.masters import master_id, masters_on_disk, rotation_lock
from goodthings.core.keys.vault import KeyVault, fingerprint, key_file, parse_key_file
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp

_WRAP_CONTEXT = b"goodthings-data-key:v1:"
_NUMBER, _TEXT, _BOOL, _DATA = b"n", b"s", b"b", b"d"
_DOUBLE = struct.Struct(">d")
FOLLOW_INTERVAL = 0.05
"""Seconds between two looks for keys destroyed elsewhere during reads: the gate's own poll."""


class UnreadableError(GoodthingsError):
    """A sealed value cannot be read: its data key is missing, destroyed, or not its key."""


Value = float | str | bool | bytes


def encode_value(value: Value) -> bytes:
    """Type-tagged bytes, so a decrypted value comes back as the type it was sent as."""
    if isinstance(value, bool):
        return _BOOL + (b"\x01" if value else b"\x00")
    if isinstance(value, float | int):
        return _NUMBER + _DOUBLE.pack(value)
    if isinstance(value, str):
        return _TEXT + value.encode("utf-8")
    return _DATA + bytes(value)


def decode_value(data: bytes) -> Value:
    if data[:1] == _NUMBER:  # the usual case first: readings are mostly numbers
        return float(_DOUBLE.unpack_from(data, 1)[0])
    tag, body = data[:1], data[1:]
    if tag == _TEXT:
        return body.decode("utf-8")
    if tag == _BOOL:
        return body == b"\x01"
    return body


def row_prefix(device_id: str, stream_id: int) -> bytes:
    """The part of a row's associated data that all readings of one device's stream share, so
    that sealing or opening many of them builds it once (`context_at`)."""
    return f"{device_id}\x1f{stream_id}\x1f".encode()


def context_at(prefix: bytes, time: float) -> bytes:
    """The associated data of the reading at `time` of the stream whose `row_prefix` this is."""
    return prefix + repr(time).encode()


def row_context(device_id: str, stream_id: int, time: float) -> bytes:
    """Associated data that ties a sealed value to its row."""
    return context_at(row_prefix(device_id, stream_id), time)


@dataclass
class Sealer:
    """Seals many values under one holder's key with unique nonces (one per batch and holder)."""

    cipher: AESGCM
    prefix: bytes
    counter: int = 0
    sealed_key: bytes | None = None
    """For a person who holds their own key: this batch's key, sealed to them (age), to be
    stored with the batch; the hub keeps no copy it can open."""

    def seal(self, value: Value, context: bytes) -> bytes:
        self.counter += 1
        nonce = self.prefix + self.counter.to_bytes(4, "big")
        return nonce + self.cipher.encrypt(nonce, encode_value(value), context)

    def seal_stream(self, prefix: bytes, points: Sequence[tuple[float, Value]]) -> list[bytes]:
        """Seal readings of one stream, as `seal` with `context_at(prefix, time)` for each:
        the stream's part of the associated data (`row_prefix`) is given once, and the loop
        keeps what it needs at hand (the hot path of ingest for personal streams)."""
        encrypt = self.cipher.encrypt
        nonce_prefix = self.prefix
        counter = self.counter
        pack_number = _DOUBLE.pack
        number = _NUMBER
        sealed: list[bytes] = []
        append = sealed.append
        for moment, value in points:
            counter += 1
            nonce = nonce_prefix + counter.to_bytes(4, "big")
            plain = number + pack_number(value) if type(value) is float else encode_value(value)
            append(nonce + encrypt(nonce, plain, prefix + repr(moment).encode()))
        self.counter = counter
        return sealed


def open_sealed(cipher: AESGCM, sealed: bytes, context: bytes) -> Value:
    try:
        return decode_value(cipher.decrypt(sealed[:12], sealed[12:], context))
    except (InvalidTag, ValueError):  # ValueError: too short to hold a nonce
        raise UnreadableError("a sealed value does not match its key or its row") from None


class Keyring:
    """Data keys by holder, unwrapped once and kept in memory while the hub runs.

    A key shredded through this keyring is never cached again by it, even by a read whose
    transaction still sees the key's row: reads of that holder are unreadable from the moment
    `shred` is called, and only a fresh key made at ingest (`load(create=True)`) lifts that.

    Every shred also leaves a row in `destroyed_keys` (the holder and the fingerprint of the
    wrapped key). Another process's keyring forgets a key it holds as soon as it sees that row
    (`forget_destroyed`), which the gate's refresh (every 50 ms, through `load_held`) and every
    read (`ReadingOpener`, at its start and every 50 ms while it runs) ask it to do; a key
    whose fingerprint was destroyed is never cached again, while a fresh key of the same
    holder has another fingerprint and is not affected.
    """

    def __init__(self, master_key: bytes, vault: KeyVault) -> None:
        self._masters = {master_id(master_key): AESGCM(master_key)}
        """Master keys by id; the first wraps new keys unless a rotation put a next one on disk."""
        self._tag_key = vault.secret_root(master_key).tag_key
        self.vault = vault
        self._ciphers: dict[str, AESGCM] = {}
        self._held: dict[str, pyrage.x25519.Recipient] = {}
        self._shredded: set[str] = set()
        self._fingerprints: dict[str, str] = {}
        self._destroyed: set[str] = set()
        """Fingerprints of keys the store says were destroyed: never cached again."""
        self._destroyed_seen = 0
        """The newest `destroyed_keys` id this keyring has acted on."""
        self.destroyed_seen_at = 0.0
        """Unix time this keyring last learnt of keys destroyed (0: never): with
        `destroyed_seen`, how soon an erasure reached this process (its /metrics)."""
        self._lock = threading.Lock()
        self._following = threading.Lock()
        self._next_follow = 0.0
        self.generation = 0
        """Counts shreds done here and keys found destroyed elsewhere, so openers drop caches."""

    def sealer(self, holder: str) -> Sealer:
        """A sealer for a fresh batch; the holder's key must have been loaded or created.

        For a person who holds their own key, each batch gets a fresh key, sealed to their age
        public key and then forgotten: the hub can write their readings but not read them.
        """
        recipient = self._held.get(holder)
        if recipient is not None:
            key = AESGCM.generate_key(bit_length=256)
            return Sealer(AESGCM(key), os.urandom(8), sealed_key=pyrage.encrypt(key, [recipient]))
        return Sealer(self._ciphers[holder], os.urandom(8))

    def load_held(self, connection: Connection) -> None:
        """Learn who holds their own key (and forget the hub's copies of those keys), and
        forget every key the store says was destroyed since the last look."""
        self.forget_destroyed(connection)
        with self._lock:
            for holder, fingerprint in list(self._fingerprints.items()):
                if fingerprint in self._destroyed:
                    self._ciphers.pop(holder, None)
                    del self._fingerprints[holder]
        rows = connection.execute(select(tp.held_keys.c.subject_id, tp.held_keys.c.age_recipient))
        held = {holder: pyrage.x25519.Recipient.from_str(text) for holder, text in rows}
        for holder in held:
            self._ciphers.pop(holder, None)
        self._held = held

    def holds_own_key(self, holder: str) -> bool:
        return holder in self._held

    def raw_key(self, connection: Connection, holder: str) -> bytes | None:
        """The holder's data key in clear, to seal it to them when they take it over."""
        wrapped = self.vault.read(holder)
        return None if wrapped is None else self._unwrap(holder, wrapped)

    def tag(self, holder: str) -> str:
        """A keyed hash of the holder: how the erasure journal names them without naming them."""
        return hmac.new(self._tag_key, holder.encode(), hashlib.sha256).hexdigest()

    def cipher(self, connection: Connection, holder: str) -> AESGCM | None:
        """The holder's key for reading, or None when it does not exist (or was destroyed)."""
        if holder in self._held or holder in self._shredded:
            return None
        if holder not in self._ciphers:
            self.load(connection, [holder], create=False)
        if self._fingerprints.get(holder) in self._destroyed:
            return None
        return self._ciphers.get(holder)

    def has(self, holder: str) -> bool:
        return holder in self._ciphers

    def load(self, connection: Connection, holders: Iterable[str], *, create: bool) -> None:
        """Unwrap the keys of `holders`, creating missing ones when `create` (never on reads)."""
        wanted = [h for h in holders if h not in self._ciphers and h not in self._held]
        if not create:
            wanted = [h for h in wanted if h not in self._shredded]
        if not wanted:
            return
        for holder in wanted:
            wrapped = self.vault.read(holder)
            if wrapped is not None:
                self._keep(holder, AESGCM(self._unwrap(holder, wrapped)), fingerprint(wrapped))
            elif create:
                self._create(holder)

    def shred(self, connection: Connection, holder: str) -> int:
        """Destroy every key that opens the holder's readings (crypto-shredding); returns how
        many were destroyed. The key file is gone at once, whatever becomes of `connection`'s
        transaction (an erasure is never undone); other processes forget a key they hold in
        memory when they see its `destroyed_keys` row, once `connection` commits."""
        with self._lock:
            self._shredded.add(holder)
            self._ciphers.pop(holder, None)
            self._fingerprints.pop(holder, None)
            self.generation += 1
        tag = self.tag(holder)
        destroyed_key = self.vault.destroy(holder, tag)
        # Every key of the holder the journal lists, not only this one: a shred whose
        # transaction failed destroyed its key all the same, and running it again must still
        # tell the other processes.
        journaled = {
            erased.fingerprint for erased in self.vault.erased() if erased.holder_tag == tag
        }
        known = set(
            connection.execute(
                select(t.destroyed_keys.c.fingerprint).where(t.destroyed_keys.c.holder == holder)
            ).scalars()
        )
        now = datetime.now(UTC)
        for key in sorted(journaled - known):
            connection.execute(
                insert(t.destroyed_keys).values(holder=holder, fingerprint=key, destroyed_at=now)
            )
        destroyed = int(destroyed_key is not None)
        destroyed += connection.execute(
            delete(tp.held_batch_keys).where(tp.held_batch_keys.c.holder == holder)
        ).rowcount
        connection.execute(delete(tp.held_keys).where(tp.held_keys.c.subject_id == holder))
        return int(destroyed)

    def forget_destroyed(self, connection: Connection) -> None:
        """Stop opening with every key destroyed (in any process) since the last look.

        One indexed query that finds nothing in the usual case, so it can run on every refresh
        and at the start of every read. Sealing with such a key stops at the gate's next
        refresh (`load_held`), which also stops collecting for its holder: dropping the key
        here, under a batch already deciding with the old gate, would fail that batch.
        """
        rows = connection.execute(
            select(t.destroyed_keys.c.id, t.destroyed_keys.c.fingerprint)
            .where(t.destroyed_keys.c.id > self._destroyed_seen)
            .order_by(t.destroyed_keys.c.id)
        ).all()
        if not rows:
            return
        with self._lock:
            self._destroyed.update(fingerprint for _, fingerprint in rows)
            self._destroyed_seen = max(self._destroyed_seen, rows[-1][0])
            self.destroyed_seen_at = time.time()
            self.generation += 1

    @property
    def destroyed_seen(self) -> int:
        """The newest `destroyed_keys` id this keyring no longer opens or seals with."""
        return self._destroyed_seen

    def follow(self, engine: Engine) -> None:
        """Look for keys destroyed elsewhere while reads run: at most every `FOLLOW_INTERVAL`,
        by one thread at a time, on a connection of its own (a SQLite read keeps the snapshot
        it started with, so its own connection would not see the shred).

        A thread that finds another one looking goes on reading instead of waiting: only one
        reader at a time ever holds a second connection, so reads cannot exhaust the pool.
        """
        if time.monotonic() < self._next_follow or not self._following.acquire(blocking=False):
            return
        try:
            self._next_follow = time.monotonic() + FOLLOW_INTERVAL
            with engine.connect() as connection:
                self.forget_destroyed(connection)
        finally:
            self._following.release()

    def _keep(self, holder: str, cipher: AESGCM, fingerprint: str) -> None:
        # Checked under the lock that `shred` and `forget_destroyed` take, so a key read just
        # before a shred (here or elsewhere) is not cached after it.
        with self._lock:
            if holder not in self._shredded and fingerprint not in self._destroyed:
                self._ciphers[holder] = cipher
                self._fingerprints[holder] = fingerprint

    def _create(self, holder: str) -> None:
        key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        # Under the rotation lock, and under `master.key.next` when a rotation runs: a rotation
        # then either sees this file or never needs to (core/keys/masters.py).
        with rotation_lock(self.vault.keys_dir, exclusive=False):
            wrapping, cipher = self._wrapping_master()
            wrapped = nonce + cipher.encrypt(nonce, key, _WRAP_CONTEXT + holder.encode())
            stored = self.vault.create(
                holder, key_file(wrapping, hashlib.sha256(wrapped).hexdigest(), wrapped)
            )
        if stored != wrapped:
            # Another worker created it first: use theirs, so both encrypt under one key.
            key = self._unwrap(holder, stored)
        with self._lock:
            self._shredded.discard(holder)
            self._ciphers[holder] = AESGCM(key)
            self._fingerprints[holder] = fingerprint(stored)

    def _wrapping_master(self) -> tuple[bytes, AESGCM]:
        on_disk = masters_on_disk(self.vault.keys_dir)
        for master in on_disk:
            self._masters.setdefault(master_id(master), AESGCM(master))
        wrapping = master_id(on_disk[0]) if on_disk else next(iter(self._masters))
        return wrapping, self._masters[wrapping]

    def _unwrap(self, holder: str, stored: bytes) -> bytes:
        wrapping, wrapped = parse_key_file(stored)
        if wrapping is not None and wrapping not in self._masters:
            # Wrapped under a master this process has not seen: a rotation ran since it started.
            for master in masters_on_disk(self.vault.keys_dir):
                self._masters.setdefault(master_id(master), AESGCM(master))
        ciphers = (
            list(self._masters.values()) if wrapping is None else [self._masters.get(wrapping)]
        )
        for cipher in ciphers:
            if cipher is None:
                continue
            try:
                return cipher.decrypt(wrapped[:12], wrapped[12:], _WRAP_CONTEXT + holder.encode())
            except InvalidTag:
                continue
        raise UnreadableError(
            f"the data key of {holder!r} does not open with this deployment's master key"
        )

    def rewrap(self, holder: str, stored: bytes, master: bytes) -> bytes:
        """The holder's key file re-wrapped under `master`, keeping its fingerprint."""
        key = self._unwrap(holder, stored)
        nonce = os.urandom(12)
        wrapped = nonce + AESGCM(master).encrypt(nonce, key, _WRAP_CONTEXT + holder.encode())
        return key_file(master_id(master), fingerprint(stored), wrapped)
