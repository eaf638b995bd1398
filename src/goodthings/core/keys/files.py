"""Key files on disk: created once with mode 0600, refused when others can read them.

The master key (32 random bytes) wraps every subject's data key; the Ed25519 signing key
signs consent receipts, ledger checkpoints and reports. Neither is ever logged or printed.
"""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.core.errors import DeploymentError
from goodthings.core.ledger import FollowingSigner, key_id

MASTER_KEY = "master.key"
SIGNING_KEY = "signing.key"
SIGNING_PUBLIC_KEY = "signing.pub"
NEXT_SIGNING_KEY = SIGNING_KEY + ".next"
"""The successor a `goodthings keys rotate-signing` under way has made (core/keys/signing.py)."""
OPERATOR_TOKEN = "operator.token"  # noqa: S105 (a file name, not a secret)


def create_keys(keys_dir: Path) -> None:
    """Make the master key, the signing key and the operator API token; never overwrites one."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys_dir.chmod(0o700)
    master = base64.b64encode(secrets.token_bytes(32)) + b"\n"
    _write_secret(keys_dir / MASTER_KEY, master)
    signing = Ed25519PrivateKey.generate()
    _write_secret(
        keys_dir / SIGNING_KEY,
        signing.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    public = signing.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (keys_dir / SIGNING_PUBLIC_KEY).write_bytes(public)
    _write_secret(keys_dir / OPERATOR_TOKEN, secrets.token_urlsafe(32).encode() + b"\n")


def _write_secret(path: Path, content: bytes) -> None:
    # O_EXCL: an existing key is never replaced; 0600 from the first byte, not chmod afterwards.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise DeploymentError(f"{path} already exists; goodthings never overwrites a key") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def _read_secret(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DeploymentError(
            f"{path} is missing; run `goodthings init` to create a deployment with its keys"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DeploymentError(
            f"{path} can be read by other users (mode {stat.filemode(mode)}); run `chmod 600 {path}`"
        )
    return path.read_bytes()


def load_master_key(keys_dir: Path) -> bytes:
    key = base64.b64decode(_read_secret(keys_dir / MASTER_KEY).strip())
    if len(key) != 32:
        raise DeploymentError(f"{keys_dir / MASTER_KEY} does not hold a 32-byte key")
    return key


def load_signing_key(keys_dir: Path) -> FollowingSigner:
    """The signing key, following the ledger's key history when it is rotated while we run."""
    return FollowingSigner(
        _signing_key(keys_dir / SIGNING_KEY), lambda wanted: _find(keys_dir, wanted)
    )


def _signing_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(_read_secret(path), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise DeploymentError(f"{path} is not an Ed25519 private key")
    return key


def _find(keys_dir: Path, wanted: str) -> Ed25519PrivateKey | None:
    # The successor is in signing.key.next until the rotation renames it over signing.key, so
    # next is read first: once it has gone, the rename is done and signing.key holds it (read
    # the other way round, a rename between the two reads hides it from both).
    for name in (NEXT_SIGNING_KEY, SIGNING_KEY):
        try:
            key = _signing_key(keys_dir / name)
        except (DeploymentError, FileNotFoundError):  # renamed between its stat and its read
            continue
        if key_id(key.public_key()) == wanted:
            return key
    return None


def load_operator_token(keys_dir: Path) -> str:
    """The bearer token the operator's scripts use for the operator API."""
    return _read_secret(keys_dir / OPERATOR_TOKEN).decode().strip()


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DeploymentError(f"{path} is missing") from None
    return parse_public_key(data, path)


def parse_public_key(data: bytes, path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in `data`, read from `path` (named in the error)."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise DeploymentError(
            f"{path} is not a PEM public key (-----BEGIN PUBLIC KEY-----)"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise DeploymentError(f"{path} is not an Ed25519 public key")
    return key


def write_secret(path: Path, content: bytes) -> None:
    """Create a secret file with mode 0600; never overwrite one."""
    _write_secret(path, content)


def read_secret(path: Path) -> bytes:
    """A secret file's bytes, refused when other users can read it."""
    return _read_secret(path)
