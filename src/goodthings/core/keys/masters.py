"""The master key's lifecycle: which master keys are on disk, the root of the secrets derived
from the master key, and the lock that keeps key creation out of a rotation's way.

During a rotation (`core/keys/rotation.py`) two master keys are on disk: `master.key`, the one
being retired, and `master.key.next`, its successor. Every process opens a data key with
whichever of them wraps it (a key file names its master by `master_id`), and wraps a new key
under `master.key.next` when there is one, so no key made while the rotation runs is left
behind under the retired master.

Why a separate root for derived secrets: webhook secrets, access tokens, password fingerprints,
passers-by's keyed hashes and the erasure journal's keyed hashes are all derived from the
master key (HKDF-SHA256 without salt, and one SHA-256 for the journal's tags). Recipients and
stored rows depend on them, so they must outlive the master key they came from. The first
rotation therefore writes `derived.key`: the HKDF extract of the first master key (RFC 5869
§2.2, PRK = HMAC-SHA256(zeros, master)) and the journal's tag key. Both are one-way functions
of the old master: they give every derived secret again, but open no data key.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from goodthings.core.errors import DeploymentError
from goodthings.core.keys.files import MASTER_KEY, load_master_key, read_secret

NEXT_MASTER_KEY = MASTER_KEY + ".next"
RETIRED_MASTER_KEY = MASTER_KEY + ".retired"
DERIVED_KEY = "derived.key"
ROTATION_LOCK = ".rotation.lock"
_TAG_CONTEXT = b"goodthings-erasure-tag:v1:"
_ID_CONTEXT = b"goodthings master id:v1\0"


def master_id(master: bytes) -> bytes:
    """16 bytes that name a master key in the key files it wraps, revealing nothing of it."""
    return hashlib.sha256(_ID_CONTEXT + master).digest()[:16]


@dataclass(frozen=True)
class SecretRoot:
    """What every secret derived from the master key is derived from (see the docstring)."""

    prk: bytes
    tag_key: bytes

    @classmethod
    def of_master(cls, master: bytes) -> SecretRoot:
        # RFC 5869 §2.2: without a salt, HKDF-Extract uses HashLen zero bytes as the key.
        prk = hmac.new(b"\0" * 32, master, hashlib.sha256).digest()
        return cls(prk, hashlib.sha256(_TAG_CONTEXT + master).digest())

    def derive(self, info: bytes) -> bytes:
        """The 32-byte secret for `info`: equal to HKDF(SHA256, salt=None, info) of the master."""
        return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=info).derive(self.prk)


def load_secret_root(keys_dir: Path) -> SecretRoot:
    """The root of derived secrets: `derived.key` once a rotation wrote it, else the master."""
    path = keys_dir / DERIVED_KEY
    if not path.exists():
        return SecretRoot.of_master(load_master_key(keys_dir))
    try:
        data = json.loads(read_secret(path))
        return SecretRoot(base64.b64decode(data["prk"]), base64.b64decode(data["tag"]))
    except (ValueError, KeyError, TypeError):
        raise DeploymentError(f"{path} is not a goodthings derived-secrets file") from None


def keep_secret_root(keys_dir: Path) -> None:
    """Write `derived.key` from the current master unless it exists (before a first rotation)."""
    path = keys_dir / DERIVED_KEY
    if path.exists():
        return
    root = SecretRoot.of_master(load_master_key(keys_dir))
    content = json.dumps(
        {"prk": base64.b64encode(root.prk).decode(), "tag": base64.b64encode(root.tag_key).decode()}
    ).encode()
    write_atomically(path, content + b"\n")


def write_atomically(path: Path, content: bytes) -> None:
    """Write a secret file whole or not at all: a 0600 temporary file, fsync, rename."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    sync_directory(path.parent)


def destroy_file(path: Path) -> None:
    """Overwrite a key file with zeros, then remove its name, durably. Zeros are best effort
    against undelete: a copy-on-write file system or an SSD may keep the old blocks, which is
    why a data key is also wrapped under the master key."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    with path.open("r+b") as out:
        out.write(b"\0" * size)
        out.flush()
        os.fsync(out.fileno())
    path.unlink(missing_ok=True)
    sync_directory(path.parent)


def sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def masters_on_disk(keys_dir: Path) -> list[bytes]:
    """The master keys a data key may be wrapped under, the one to wrap new keys under first."""
    found = []
    for name in (NEXT_MASTER_KEY, MASTER_KEY):
        path = keys_dir / name
        if path.exists():
            key = base64.b64decode(read_secret(path).strip())
            if len(key) != 32:
                raise DeploymentError(f"{path} does not hold a 32-byte key")
            found.append(key)
    return found


@contextmanager
def rotation_lock(directory: Path, *, exclusive: bool) -> Iterator[None]:
    """Shared while a key file is created or destroyed, exclusive while a rotation rewrites
    one or swaps the master keys: so a rotation never misses a key or brings one back."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(directory / ROTATION_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
