"""The ledger's key history: each change of its signing key, signed by the old key and the new.

A change is recorded by a ledger entry (action ``keys.rotate-signing``) whose digest is the
SHA-256 of the change's statement, and by a `KeyChange` that holds both public keys and both
signatures. Checkpoints before the entry's seq are signed by the old key, from its seq on by the
new one (the entry itself is signed at once, by the new key).

Why both signatures: the old key's says "my successor is this key", so nobody without the old
private key can slip a key of their own into the history; the new key's says "my predecessor is
that key", so the history can be walked backwards too. Trusting any one key of the history
therefore vouches for all of them, and an auditor may start from the key they were given,
however old or new. This module is pure; the format:

Statement
    ``b"goodthings-ledger-key-change:v1\\n" + f"{old}\\n{new}\\n{time}".encode()``, with old
    and new the standard base64 of the raw 32-byte Ed25519 public keys and time when the change
    was made. The seq of the recording entry is not signed: a database restored from a backup
    older than the change records the same change again at a later seq (`core/keys/signing.py`),
    and the checkpoints pin where a change can be, since those before it verify only with the
    old key and those from it on only with the new.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.chain import key_id

KEY_CHANGE_PREFIX = b"goodthings-ledger-key-change:v1\n"
ROTATE_SIGNING = "keys.rotate-signing"
"""The action of the entry that records a key change."""


@dataclass(frozen=True)
class KeyChange:
    """One change of the signing key, at the entry `seq` that records it."""

    seq: int
    time: str
    old_public_key: str
    new_public_key: str
    old_signature: str
    new_signature: str

    @property
    def old_key_id(self) -> str:
        return _raw_key_id(self.old_public_key)

    @property
    def new_key_id(self) -> str:
        return _raw_key_id(self.new_public_key)


def _raw_key_id(text: str) -> str:
    """`chain.key_id` of a raw key in base64, for naming a key without trusting it."""
    try:
        return hashlib.sha256(base64.b64decode(text, validate=True)).hexdigest()[:16]
    except (binascii.Error, ValueError):
        return "(not a key)"


def raw_public(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def key_change_statement(time: str, old: str, new: str) -> bytes:
    """The exact bytes both keys sign; labelled so no checkpoint or receipt can pass for it."""
    return KEY_CHANGE_PREFIX + f"{old}\n{new}\n{time}".encode()


def key_change_digest(change: KeyChange) -> str:
    """What the recording entry's digest must be, so the chain vouches for the change too."""
    statement = key_change_statement(change.time, change.old_public_key, change.new_public_key)
    return hashlib.sha256(statement).hexdigest()


def sign_key_change(
    seq: int, time: str, old: Ed25519PrivateKey, new: Ed25519PrivateKey
) -> KeyChange:
    old_public, new_public = raw_public(old.public_key()), raw_public(new.public_key())
    statement = key_change_statement(time, old_public, new_public)
    return KeyChange(
        seq=seq,
        time=time,
        old_public_key=old_public,
        new_public_key=new_public,
        old_signature=base64.b64encode(old.sign(statement)).decode("ascii"),
        new_signature=base64.b64encode(new.sign(statement)).decode("ascii"),
    )


@dataclass(frozen=True)
class KeyHistory:
    """Every signing key of a ledger in order, with the seq from which each signs."""

    keys: tuple[Ed25519PublicKey, ...]
    starts: tuple[int, ...]
    """`starts[i]` is the first seq `keys[i]` signs (1 for the first key)."""

    @property
    def current(self) -> Ed25519PublicKey:
        return self.keys[-1]

    def key_at(self, seq: int) -> Ed25519PublicKey:
        """The key that signs a checkpoint or receipt at `seq`."""
        index = 0
        for position, start in enumerate(self.starts):
            if start <= seq:
                index = position
        return self.keys[index]

    def holds(self, public_key: Ed25519PublicKey) -> bool:
        return key_id(public_key) in {key_id(key) for key in self.keys}


def key_history(trusted: Ed25519PublicKey, changes: Sequence[KeyChange]) -> KeyHistory:
    """Check every change against its neighbours and both its signatures, and that `trusted`
    is one of the keys; refuses a history with a change the previous key did not sign."""
    if not changes:
        return KeyHistory(keys=(trusted,), starts=(1,))
    keys = [_public(changes[0].old_public_key, changes[0].seq)]
    starts = [1]
    previous_seq = 0
    for change in changes:
        where = f"the signing-key change at entry {change.seq}"
        if not isinstance(change.seq, int) or change.seq <= previous_seq:
            raise LedgerError(f"{where} is out of order (the key history was changed)")
        if change.old_public_key != raw_public(keys[-1]):
            raise LedgerError(
                f"{where} starts from a key that is not the one before it (a change was "
                "removed or inserted)"
            )
        new = _public(change.new_public_key, change.seq)
        statement = key_change_statement(change.time, change.old_public_key, change.new_public_key)
        for signer, signature, role in (
            (keys[-1], change.old_signature, "previous"),
            (new, change.new_signature, "new"),
        ):
            if not _signed(signer, signature, statement):
                raise LedgerError(
                    f"{where} is not signed by the {role} key (key id {key_id(signer)!r}): "
                    "a key change must carry the signatures of both keys, so this one was "
                    "forged or changed"
                )
        keys.append(new)
        starts.append(change.seq)
        previous_seq = change.seq
    history = KeyHistory(keys=tuple(keys), starts=tuple(starts))
    if not history.holds(trusted):
        raise LedgerError(
            f"the key given (key id {key_id(trusted)!r}) is none of the ledger's signing keys "
            f"({', '.join(key_id(key) for key in keys)}): use a public key of this deployment"
        )
    return history


def _public(text: str, seq: int) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (binascii.Error, ValueError, TypeError):
        raise LedgerError(
            f"the signing-key change at entry {seq} holds a public key that is not a raw "
            "Ed25519 key in base64 (the key history was changed)"
        ) from None


def _signed(public_key: Ed25519PublicKey, signature: str, statement: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), statement)
    except (binascii.Error, ValueError, TypeError, InvalidSignature):
        return False
    return True
