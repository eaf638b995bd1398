"""Keys held by the person: the hub seals their readings' keys to the person's age public key
and keeps no copy it can open, so it stores ciphertext that only the person can read.

When a person takes their key, the hub's data key for them is sealed to their age recipient
(stored under the prefix `*`) and its file in the key vault deleted; from then on each ingest batch gets a fresh key,
sealed to them and stored under the batch's 8-byte nonce prefix (the first 8 bytes of every
value sealed in that batch). The export carries the sealed values and keys, and
`goodthings open-export` decrypts them with the person's age identity.
"""

from __future__ import annotations

import base64
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import pyrage
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, insert, select

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys.datakeys import Keyring, Sealer, decode_value, row_context
from goodthings.core.store import tables_portal as tp

LEGACY = "*"


class HeldKeyError(GoodthingsError):
    """A person's own key cannot be taken or used as asked."""


def store_sealed_batch_keys(connection: Connection, sealers: Mapping[str, Sealer]) -> None:
    """Keep each batch key sealed to its person, in the transaction that stores the batch."""
    rows = [
        {
            "holder": holder,
            "prefix": sealer.prefix.hex(),
            "sealed": sealer.sealed_key,
            "created_at": datetime.now(UTC),
        }
        for holder, sealer in sealers.items()
        if sealer.sealed_key is not None
    ]
    if rows:
        connection.execute(insert(tp.held_batch_keys), rows)


def hold_own_key(
    engine: Engine, keyring: Keyring, signer: Ed25519PrivateKey, subject_id: str, recipient: str
) -> None:
    """Hand the person their data key (sealed to `recipient`) and destroy the hub's copy."""
    try:
        sealed_to = pyrage.x25519.Recipient.from_str(recipient.strip())
    except (pyrage.RecipientError, ValueError):
        raise HeldKeyError("that is not an age public key (it starts with 'age1')") from None
    with engine.begin() as connection:
        if connection.execute(
            select(tp.held_keys.c.subject_id).where(tp.held_keys.c.subject_id == subject_id)
        ).first():
            raise HeldKeyError(f"{subject_id} already holds their own key")
        now = datetime.now(UTC)
        key = keyring.raw_key(connection, subject_id)
        if key is not None:
            connection.execute(
                insert(tp.held_batch_keys).values(
                    holder=subject_id,
                    prefix=LEGACY,
                    sealed=pyrage.encrypt(key, [sealed_to]),
                    created_at=now,
                )
            )
        connection.execute(
            insert(tp.held_keys).values(
                subject_id=subject_id, age_recipient=recipient.strip(), created_at=now
            )
        )
        ledger.append(
            connection,
            signer,
            actor=f"subject:{subject_id}",
            action="keys.held",
            target=f"subject:{subject_id}",
            counts={"keys_handed_over": int(key is not None)},
        )
    # Switching over (not forgetting first) keeps concurrent batches from finding no key: until
    # then they seal under the old key, which the person now holds too. The hub's copy goes
    # once the handover is committed, so a failed handover loses nothing.
    with engine.connect() as connection:
        keyring.load_held(connection)
    keyring.vault.remove(subject_id)


def sealed_keys(connection: Connection, holder: str) -> Iterator[tuple[str, bytes]]:
    rows = connection.execute(
        select(tp.held_batch_keys.c.prefix, tp.held_batch_keys.c.sealed).where(
            tp.held_batch_keys.c.holder == holder
        )
    )
    for prefix, sealed in rows:
        yield str(prefix), bytes(sealed)


@dataclass(frozen=True)
class Opened:
    device: str
    stream: str
    time: float
    value: object


def open_export(archive: zipfile.ZipFile, identity: pyrage.x25519.Identity) -> Iterator[Opened]:
    """The readings of `held-readings.csv` in an export, decrypted with the person's identity."""
    keys: dict[str, AESGCM] = {}
    with archive.open("held-keys.csv") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
            try:
                key = pyrage.decrypt(base64.b64decode(row["sealed_key"]), [identity])
            except pyrage.DecryptError:
                raise HeldKeyError("this identity does not open the keys in this export") from None
            keys[row["prefix"]] = AESGCM(key)
    with archive.open("held-readings.csv") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8")):
            yield _open_row(keys, row)


def _open_row(keys: Mapping[str, AESGCM], row: Mapping[str, str]) -> Opened:
    sealed = base64.b64decode(row["sealed"])
    moment = float(row["time_unix"])
    context = row_context(row["device"], int(row["stream_id"]), moment)
    for cipher in _candidates(keys, sealed[:8].hex()):
        try:
            value = decode_value(cipher.decrypt(sealed[:12], sealed[12:], context))
        except InvalidTag:
            continue
        return Opened(row["device"], row["stream"], moment, value)
    raise HeldKeyError(f"no key in the export opens the reading of {row['device']} at {moment}")


def _candidates(keys: Mapping[str, AESGCM], prefix: str) -> Iterable[AESGCM]:
    if prefix in keys:
        yield keys[prefix]
    if LEGACY in keys:
        yield keys[LEGACY]


def write_opened(rows: Iterable[Opened], out: IO[str]) -> int:
    writer = csv.writer(out)
    writer.writerow(["device", "stream", "time_unix", "value"])
    count = 0
    for row in rows:
        writer.writerow([row.device, row.stream, repr(row.time), row.value])
        count += 1
    return count
