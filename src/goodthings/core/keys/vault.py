"""The data-key vault: each holder's wrapped data key in a file of its own under `keys/data/`,
outside the database, and a journal of destroyed keys beside the ledger's witness file.

Why outside the database: a database backup, whoever takes it (`goodthings backup`, pg_dump,
a copy of the SQLite file), then holds only ciphertext. Destroying a key file reaches every
such backup at once, old or new, with no need to find and edit them (docs/operations.md).

Why a journal: a restored database does not know about erasures made after it was taken. The
journal (`erasures.jsonl`, one JSON line per destroyed key, append-only, mode 0600) lives in
neither the database nor `keys/`, so neither restore rolls it back::

    {"at":"2024-05-01T12:00:00+00:00","holder":"<keyed hash>","key":"<fingerprint>"}

It names holders only by a keyed hash (`Keyring.tag`), so it reveals nobody to someone without
the master key. A key file whose fingerprint the journal lists is destroyed when it is next
read: putting back an old copy of `keys/` does not bring an erased key back either.

A key file is the wrapped key as it was first written (nonce and AES-GCM ciphertext), or, once
a master-key rotation touched it or it was made since, a second form that names its master::

    b"GTK2" + master id (16 bytes) + fingerprint (32 bytes) + nonce + ciphertext

The fingerprint is the key's first file's, kept through every re-wrap, so the journal, the
`destroyed_keys` rows and every process's memory keep naming the same key after a rotation.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from goodthings.core.config import Home
from goodthings.core.errors import DeploymentError
from goodthings.core.keys.masters import (
    DERIVED_KEY,
    SecretRoot,
    destroy_file,
    load_secret_root,
    rotation_lock,
    sync_directory,
    write_atomically,
)

_TAGGED = b"GTK2"
_HEADER = len(_TAGGED) + 16 + 32


def fingerprint(stored: bytes) -> str:
    """Names one data key without revealing anything about it, the same through re-wraps."""
    if stored.startswith(_TAGGED):
        return stored[len(_TAGGED) + 16 : _HEADER].hex()
    return hashlib.sha256(stored).hexdigest()


def key_file(master: bytes, key_fingerprint: str, wrapped: bytes) -> bytes:
    """The bytes of a key file naming the master (by its id) that wraps it."""
    return _TAGGED + master + bytes.fromhex(key_fingerprint) + wrapped


def parse_key_file(stored: bytes) -> tuple[bytes | None, bytes]:
    """(id of the master that wraps it or None for a first-form file, the wrapped key)."""
    if stored.startswith(_TAGGED):
        return stored[len(_TAGGED) : len(_TAGGED) + 16], stored[_HEADER:]
    return None, stored


@dataclass(frozen=True)
class Erased:
    """One line of the erasure journal: a key destroyed, and whose (as a keyed hash)."""

    at: datetime
    holder_tag: str
    fingerprint: str


class KeyVault:
    """Wrapped data keys, one file per holder (named by a hash of the holder), mode 0600."""

    def __init__(self, directory: Path, journal: Path) -> None:
        self.directory = directory
        self.journal = journal
        self._journaled: set[str] | None = None

    @classmethod
    def of(cls, home: Home) -> KeyVault:
        return cls(home.data_keys_dir, home.erasure_journal_path)

    def read(self, holder: str) -> bytes | None:
        """The holder's wrapped key, or None when there is none (or it was erased)."""
        path = self._path(holder)
        try:
            wrapped = path.read_bytes()
        except FileNotFoundError:
            return None
        if fingerprint(wrapped) in self._destroyed():
            # An old copy of keys/ put back: the journal says this key was erased.
            destroy_file(path)
            return None
        return wrapped

    def create(self, holder: str, wrapped: bytes) -> bytes:
        """Store a new key; when another process stored one first, that one is kept and
        returned, so every process encrypts the holder's readings under one key."""
        self._ensure_directory()
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".new-")  # mode 0600
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(wrapped)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temporary, self._path(holder))  # atomic, and never replaces a key
            except FileExistsError:
                existing = self.read(holder)
                if existing is not None:
                    return existing
                os.link(temporary, self._path(holder))
        finally:
            Path(temporary).unlink()
        sync_directory(self.directory)
        return wrapped

    def destroy(self, holder: str, holder_tag: str) -> str | None:
        """Erase the holder's key: journal it, then delete the file; returns its fingerprint,
        or None when there was no key. Journal first, so a crash in between still erases."""
        with rotation_lock(self.keys_dir, exclusive=False):
            wrapped = self.read(holder)
            if wrapped is None:
                return None
            erased = Erased(datetime.now(UTC), holder_tag, fingerprint(wrapped))
            self.record(erased)
            destroy_file(self._path(holder))
            return erased.fingerprint

    def remove(self, holder: str) -> None:
        """Delete the holder's key without journaling an erasure (the person took it over)."""
        with rotation_lock(self.keys_dir, exclusive=False):
            destroy_file(self._path(holder))

    @property
    def keys_dir(self) -> Path:
        """The deployment's `keys/`, where the master keys are."""
        return self.directory.parent

    def secret_root(self, master: bytes) -> SecretRoot:
        """The root of derived secrets: `derived.key` once a rotation wrote it, else `master`."""
        if (self.keys_dir / DERIVED_KEY).exists():
            return load_secret_root(self.keys_dir)
        return SecretRoot.of_master(master)

    def holder_files(self) -> dict[str, Path]:
        """Every key file by the hash of its holder (the file's name)."""
        if not self.directory.exists():
            return {}
        return {path.stem: path for path in sorted(self.directory.glob("*.key"))}

    def holder_hash(self, holder: str) -> str:
        return self._path(holder).stem

    def rewrite(self, path: Path, stored: bytes) -> None:
        """Put a re-wrapped key in place of its file, atomically; the caller holds the
        rotation lock exclusively, so no erasure of that key runs meanwhile."""
        if path.exists():
            write_atomically(path, stored)

    def was_erased(self, wrapped: bytes) -> bool:
        """Whether the journal lists this key as destroyed."""
        return fingerprint(wrapped) in self._destroyed()

    def erased(self) -> list[Erased]:
        """Every line of the journal, oldest first."""
        try:
            text = self.journal.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                found.append(
                    Erased(datetime.fromisoformat(data["at"]), data["holder"], data["key"])
                )
            except (ValueError, KeyError, TypeError):
                raise DeploymentError(
                    f"{self.journal}:{number} is not an erasure journal line; restore the file "
                    "from its copy (it is only ever appended to)"
                ) from None
        return found

    def _destroyed(self) -> set[str]:
        if self._journaled is None:
            self._journaled = {entry.fingerprint for entry in self.erased()}
        return self._journaled

    def record(self, erased: Erased) -> None:
        """Append one line to the journal, on disk before this returns."""
        line = json.dumps(
            {"at": erased.at.isoformat(), "holder": erased.holder_tag, "key": erased.fingerprint},
            separators=(",", ":"),
        )
        fd = os.open(self.journal, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())
        self._destroyed().add(erased.fingerprint)

    def _path(self, holder: str) -> Path:
        return self.directory / f"{hashlib.sha256(holder.encode()).hexdigest()}.key"

    def _ensure_directory(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
