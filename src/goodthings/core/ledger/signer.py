"""The signing key a long-running process holds: it follows the ledger's key history.

`goodthings keys rotate-signing` records the new key's id in the ledger's head row, in the
transaction that records the change. Every append reads that row under its lock, so a process
that still holds the old key notices on its next append and loads the new key before it signs
anything: no checkpoint is ever signed by a retired key, and no process needs a restart.
A `FollowingSigner` is an `Ed25519PrivateKey`, so everything that signs takes it unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.chain import key_id

Finder = Callable[[str], Ed25519PrivateKey | None]
"""Looks for the private key with this key id where the deployment keeps its keys."""


class FollowingSigner(Ed25519PrivateKey):
    """A signing key that can be swapped for its successor, in place, by every holder at once."""

    def __init__(self, key: Ed25519PrivateKey, find: Finder) -> None:
        self._key = key
        self._key_id = key_id(key.public_key())
        self._find = find
        self._lock = threading.Lock()

    @property
    def key_id(self) -> str:
        return self._key_id

    def follow(self, wanted: str) -> None:
        """Hold the key `wanted` from now on, loading it if this is not it yet."""
        if wanted == self._key_id:
            return
        with self._lock:
            if wanted == self._key_id:
                return
            found = self._find(wanted)
            if found is None:
                raise LedgerError(
                    f"the ledger's signing key is now {wanted!r}, but this process holds "
                    f"{self._key_id!r} and cannot find the new one among the deployment's keys"
                )
            self._key, self._key_id = found, wanted

    def sign(self, data: bytes | bytearray | memoryview) -> bytes:
        return self._key.sign(data)

    def public_key(self) -> Ed25519PublicKey:
        return self._key.public_key()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        return self._key.private_bytes(encoding, format, encryption_algorithm)

    def private_bytes_raw(self) -> bytes:
        return self._key.private_bytes_raw()

    def __copy__(self) -> FollowingSigner:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FollowingSigner:
        return self


def signer_for(signer: Ed25519PrivateKey, wanted: str | None) -> Ed25519PrivateKey:
    """The key to sign with when the head names `wanted` (None: never rotated)."""
    if wanted is None:
        return signer
    if isinstance(signer, FollowingSigner):
        signer.follow(wanted)
        return signer
    if key_id(signer.public_key()) != wanted:
        raise LedgerError(
            f"this key (key id {key_id(signer.public_key())!r}) is not the ledger's signing key "
            f"{wanted!r} any more; it was rotated"
        )
    return signer
