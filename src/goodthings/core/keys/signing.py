"""Signing-key rotation: a new Ed25519 key signs from now on, the ledger records the hand-over
signed by both keys, and the old private key is destroyed; its public key stays in the ledger's
key history, so old checkpoints and receipts still verify.

The steps, each one safe to crash after (`rotate_signing` run again resumes from what it finds):

1. the new key is written as `signing.key.next` (temporary file, fsync, rename; mode 0600);
2. one transaction appends the `keys.rotate-signing` entry, the key change with both
   signatures, a checkpoint of that entry signed by the new key, and names the new key in the
   ledger's head. From its commit on, every process signs with the new key: each append reads
   the head under its lock and loads `signing.key.next` (or `signing.key`) when the head names
   another key than the one it holds (core/ledger/signer.py);
3. `signing.pub` is replaced by the new public key, `signing.key` hard-linked to
   `signing.key.retired` and `signing.key.next` renamed over `signing.key`;
4. `signing.key.retired` is overwritten with zeros and deleted.

Every key change is also appended to `keys/signing-history.jsonl` (public keys and signatures
only) after step 2. A database put back from a backup older than a change does not hold it,
while the old private key is gone: `catch_up` records the kept changes in it again, signed as
they were, before anything else is signed (`open_store` runs it), so the restored ledger
verifies with the old key and the new.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core import ledger
from goodthings.core.errors import DeploymentError
from goodthings.core.keys.files import (
    NEXT_SIGNING_KEY,
    SIGNING_KEY,
    SIGNING_PUBLIC_KEY,
    load_signing_key,
    read_secret,
)
from goodthings.core.keys.masters import destroy_file, sync_directory, write_atomically

RETIRED_SIGNING_KEY = SIGNING_KEY + ".retired"
SIGNING_HISTORY = "signing-history.jsonl"
_LOCK = ".rotating-signing.lock"


@dataclass(frozen=True)
class SigningRotation:
    """The key ids before and after, and the ledger entry that records the change."""

    old_key_id: str
    new_key_id: str
    seq: int


def rotate_signing(keys_dir: Path, engine: Engine, *, actor: str = "operator") -> SigningRotation:
    """Rotate the deployment's signing key (see the steps in the module docstring)."""
    with _alone(keys_dir):
        next_path, retired = keys_dir / NEXT_SIGNING_KEY, keys_dir / RETIRED_SIGNING_KEY
        if retired.exists() and not next_path.exists():
            destroy_file(retired)  # crashed in step 4: the new key is in place already
            return _done(engine)
        retired.unlink(missing_ok=True)  # a link to the current signing.key, from step 3
        if not next_path.exists():
            write_atomically(next_path, pem(Ed25519PrivateKey.generate()))
        old = load_signing_key(keys_dir)
        new = load_next(keys_dir)
        ledger.change_key(engine, old, new, actor=actor)
        _keep_history(keys_dir, engine)
        public = new.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        write_atomically(keys_dir / SIGNING_PUBLIC_KEY, public)
        (keys_dir / SIGNING_PUBLIC_KEY).chmod(0o644)  # public: auditors get a copy
        os.link(keys_dir / SIGNING_KEY, retired)
        next_path.replace(keys_dir / SIGNING_KEY)
        sync_directory(keys_dir)
        destroy_file(retired)
        return _done(engine)


def catch_up(keys_dir: Path, engine: Engine) -> int:
    """Record the kept key changes the database does not hold; returns how many."""
    kept = read_history(keys_dir)
    with engine.connect() as connection:
        known = {change.new_key_id for change in ledger.key_changes(connection)}
    missing = [change for change in kept if change.new_key_id not in known]
    if not missing:
        return 0
    signer = load_signing_key(keys_dir)
    signer.follow(missing[-1].new_key_id)
    ledger.record_key_changes(engine, missing, signer, actor="hub")
    return len(missing)


def read_history(keys_dir: Path) -> list[ledger.KeyChange]:
    path = keys_dir / SIGNING_HISTORY
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return parse_history(data, path)


def parse_history(data: bytes, path: Path) -> list[ledger.KeyChange]:
    """The key changes in `data`, read from `path` (named in the error)."""
    try:
        lines = data.decode("utf-8").splitlines()
        return [ledger.KeyChange(**json.loads(line)) for line in lines if line.strip()]
    except (ValueError, TypeError):
        raise DeploymentError(
            f"{path} is not a goodthings key history (one JSON key change per line)"
        ) from None


def _keep_history(keys_dir: Path, engine: Engine) -> None:
    with engine.connect() as connection:
        stored = ledger.key_changes(connection)
    kept = {change.new_key_id for change in read_history(keys_dir)}
    lines = "".join(
        json.dumps(asdict(change), sort_keys=True) + "\n"
        for change in stored
        if change.new_key_id not in kept
    )
    if not lines:
        return
    fd = os.open(keys_dir / SIGNING_HISTORY, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, lines.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def load_next(keys_dir: Path) -> Ed25519PrivateKey:
    path = keys_dir / NEXT_SIGNING_KEY
    key = serialization.load_pem_private_key(read_secret(path), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DeploymentError(f"{path} is not an Ed25519 private key; remove it and run again")
    return key


def _done(engine: Engine) -> SigningRotation:
    with engine.connect() as connection:
        changes = ledger.key_changes(connection)
    if not changes:
        raise DeploymentError("the ledger records no change of its signing key")
    last = changes[-1]
    return SigningRotation(old_key_id=last.old_key_id, new_key_id=last.new_key_id, seq=last.seq)


def pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@contextmanager
def _alone(keys_dir: Path) -> Iterator[None]:
    fd = os.open(keys_dir / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeploymentError(
                f"another `goodthings keys rotate-signing` is running on {keys_dir}; wait for it"
            ) from None
        yield
    finally:
        os.close(fd)
