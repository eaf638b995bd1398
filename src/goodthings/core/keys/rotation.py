"""Master-key rotation: every data key re-wrapped under a new master key, while ingest goes
on, then the old master key destroyed.

The steps, each one safe to crash after (`rotate_master` run again resumes from the state it
finds, and in every state each data key opens with a master key on disk):

1. `derived.key` is written from the old master (core/keys/masters.py), so webhook secrets,
   access tokens, password fingerprints and keyed hashes outlive it.
2. `master.key.next` is written (temporary file, fsync, rename). From here every process
   wraps a new data key under it, and opens a key with whichever master its file names.
3. Each key file still wrapped under another master is re-wrapped under the next one and
   replaced atomically, under the rotation lock held exclusively for that one file, so an
   erasure of that key either runs before (the file is gone) or after (the new file goes).
4. Under the lock for the whole step, a last pass re-wraps any key a process created under the
   old master before it saw `master.key.next`; then `master.key` is hard-linked to
   `master.key.retired` and `master.key.next` renamed over `master.key`.
5. the ledger records the rotation (action ``keys.rotate-master``, the old and new master
   key ids, never key material), then `master.key.retired` is overwritten with zeros and
   deleted. A run that resumes after step 4 records it unless the ledger already does.

A rotation reads holders' names from the store (subjects and places), because a key is wrapped
with its holder's name as associated data; a key file whose holder the store does not know is
refused, and the old master kept, rather than left unreadable.
"""

from __future__ import annotations

import base64
import fcntl
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select

from goodthings.core import ledger
from goodthings.core.errors import DeploymentError
from goodthings.core.keys.datakeys import Keyring
from goodthings.core.keys.files import MASTER_KEY, load_master_key
from goodthings.core.keys.masters import (
    NEXT_MASTER_KEY,
    RETIRED_MASTER_KEY,
    destroy_file,
    keep_secret_root,
    master_id,
    masters_on_disk,
    rotation_lock,
    sync_directory,
    write_atomically,
)
from goodthings.core.keys.vault import KeyVault, parse_key_file
from goodthings.core.store import tables as t

ROTATING_LOCK = ".rotating.lock"
ROTATE_MASTER = "keys.rotate-master"


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: keys re-wrapped now, keys found already under the new master."""

    rewrapped: int
    already: int


def rotate_master(
    vault: KeyVault, engine: Engine, signer: Ed25519PrivateKey, *, actor: str = "operator"
) -> Rotation:
    """Rotate the master key of the deployment whose `keys/` holds `vault` (see the steps)."""
    with _alone(vault.keys_dir):
        _clear_temporaries(vault)
        return _rotate(vault, engine, _Record(engine, signer, actor))


def _rotate(vault: KeyVault, engine: Engine, record: _Record) -> Rotation:
    keys_dir = vault.keys_dir
    next_path = keys_dir / NEXT_MASTER_KEY
    retired = keys_dir / RETIRED_MASTER_KEY
    if retired.exists() and not next_path.exists():
        # Crashed after step 4: every key is under the new master already.
        rotation = Rotation(rewrapped=0, already=len(vault.holder_files()))
        record(_master_at(retired), load_master_key(keys_dir), rotation)
        destroy_file(retired)
        return rotation
    retired.unlink(missing_ok=True)  # a link to the current master.key, from a crash in step 4
    keep_secret_root(keys_dir)
    if not next_path.exists():
        write_atomically(next_path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
    new = masters_on_disk(keys_dir)[0]
    old = load_master_key(keys_dir)
    keyring = Keyring(old, vault)
    holders = _Holders(engine, vault)
    rewrapped = already = 0
    for path in vault.holder_files().values():
        with rotation_lock(vault.keys_dir, exclusive=True):
            done = _rewrap(path, keyring, holders, new)
        rewrapped += done
        already += not done
    with rotation_lock(vault.keys_dir, exclusive=True):
        for path in vault.holder_files().values():
            rewrapped += _rewrap(path, keyring, holders, new)
        os.link(keys_dir / MASTER_KEY, retired)
        next_path.replace(keys_dir / MASTER_KEY)
        sync_directory(keys_dir)
    rotation = Rotation(rewrapped=rewrapped, already=already)
    record(old, new, rotation)
    destroy_file(retired)
    return rotation


def _master_at(path: Path) -> bytes:
    return base64.b64decode(path.read_bytes().strip())


class _Record:
    """Writes the rotation's ledger entry once, however often a resumed run comes by."""

    def __init__(self, engine: Engine, signer: Ed25519PrivateKey, actor: str) -> None:
        self._engine, self._signer, self._actor = engine, signer, actor

    def __call__(self, old: bytes, new: bytes, rotation: Rotation) -> None:
        target = f"master-key:{master_id(old).hex()}->{master_id(new).hex()}"
        entries = t.ledger_entries.c
        with self._engine.begin() as connection:
            recorded = connection.execute(
                select(entries.seq).where(entries.action == ROTATE_MASTER, entries.object == target)
            ).first()
            if recorded is None:
                ledger.append(
                    connection,
                    self._signer,
                    actor=self._actor,
                    action=ROTATE_MASTER,
                    target=target,
                    counts={"rewrapped": rotation.rewrapped, "already": rotation.already},
                )


@contextmanager
def _alone(keys_dir: Path) -> Iterator[None]:
    fd = os.open(keys_dir / ROTATING_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeploymentError(
                f"another `goodthings keys rotate-master` is running on {keys_dir}; wait for it"
            ) from None
        yield
    finally:
        os.close(fd)


def _clear_temporaries(vault: KeyVault) -> None:
    """Remove what a rotation killed while writing a file left behind (`write_atomically`'s
    temporaries; `.new-` files belong to key creation in other processes and stay)."""
    leftovers = [*vault.keys_dir.glob(".master.key*-*"), *vault.keys_dir.glob(".derived.key-*")]
    if vault.directory.exists():
        leftovers += vault.directory.glob(".*.key-*")
    for path in leftovers:
        path.unlink(missing_ok=True)


def _rewrap(path: Path, keyring: Keyring, holders: _Holders, new: bytes) -> bool:
    try:
        stored = path.read_bytes()
    except FileNotFoundError:
        return False  # erased meanwhile
    wrapping, _ = parse_key_file(stored)
    if wrapping == master_id(new) or keyring.vault.was_erased(stored):
        return False
    keyring.vault.rewrite(path, keyring.rewrap(holders.of(path.stem), stored, new))
    return True


class _Holders:
    """Holders by the hash that names their key file, looked up again for one not yet seen."""

    def __init__(self, engine: Engine, vault: KeyVault) -> None:
        self._engine = engine
        self._vault = vault
        self._by_hash: dict[str, str] = {}

    def of(self, name: str) -> str:
        if name not in self._by_hash:
            self._load()
        try:
            return self._by_hash[name]
        except KeyError:
            raise DeploymentError(
                f"{self._vault.directory / (name + '.key')} belongs to no subject or place the "
                "store knows, so it cannot be re-wrapped; the old master key is kept. Move the "
                "file away if its holder is gone, then run `goodthings keys rotate-master` again"
            ) from None

    def _load(self) -> None:
        with self._engine.connect() as connection:
            subjects = connection.execute(select(t.subjects.c.id)).scalars().all()
            places = connection.execute(select(t.places.c.id)).scalars().all()
        for holder in [*subjects, *(f"place:{place}" for place in places)]:
            self._by_hash[self._vault.holder_hash(holder)] = holder
