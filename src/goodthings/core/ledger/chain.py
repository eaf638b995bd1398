"""The ledger's entries, their hash chain and signed checkpoints: the format an auditor checks.

Every decision goodthings makes about personal data becomes one `Entry`. Entries form a hash
chain, and from time to time the hub signs a `Checkpoint` over the newest entry's hash. This
module is pure (no I/O, no database); `goodthings.core.ledger.verify` checks a ledger offline.

The format, precisely enough to reimplement verification in another language:

Entry fields
    seq        whole number, 1 for the first entry, then +1 per entry with no gaps
    time       UTC time, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits)
    actor      who acted, e.g. ``device:meter-1``, ``subject:alex``, ``operator``, ``hub``
    action     what was done, e.g. ``ingest``, ``read``, ``consent.give``, ``erase``
    object     what it was done to
    purpose    the purpose it was done for, or null
    counts     object of decision name -> whole number, e.g. ``{"stored": 10}``; names are
               non-empty printable ASCII, numbers 0 .. 2**53-1
    digest     lowercase hex SHA-256 of the batch content (see `content_digest`), or ""
    prev_hash  lowercase hex hash of the previous entry; 64 zeros for entry 1
    hash       lowercase hex SHA-256 of the entry's canonical encoding

Canonical encoding of an entry
    A JSON object holding every field above except ``hash`` (``purpose`` as null when absent),
    with keys sorted, no whitespace (separators ``,`` and ``:``), non-ASCII characters written
    as themselves (not ``\\u`` escapes) and the whole encoded as UTF-8. This is Python's
    ``json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``; for the
    values `make_entry` admits it is byte for byte the same as RFC 8785 (JCS). Example::

        {"action":"ingest","actor":"device:meter-1","counts":{"stored":10},"digest":"",
        "object":"stream:power","prev_hash":"000...000","purpose":null,"seq":1,
        "time":"2024-05-01T12:00:00.000000Z"}

    (shown on two lines here; the encoding itself is one line with no spaces).

Content digest
    SHA-256 over the batch's parts, each preceded by its length as an 8-byte big-endian
    unsigned integer, so no rearrangement of bytes between parts yields the same digest.

Checkpoint
    seq, hash    the newest entry covered and its hash
    time         when it was signed, in the entry time format
    signature    standard base64 (with padding) of the Ed25519 signature over the statement
                 ``b"goodthings-ledger-checkpoint:v1\\n" + f"{seq}\\n{hash}\\n{time}".encode()``
    key_id       first 16 hex digits of SHA-256 over the raw 32-byte public key; a hint only,
                 the signature is what is checked

A checkpoint signs the entry's hash, and that hash covers every earlier entry through the
chain, so one valid signature vouches for the whole ledger up to its seq.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.core.errors import LedgerError

GENESIS_HASH = "0" * 64
CHECKPOINT_PREFIX = b"goodthings-ledger-checkpoint:v1\n"

# JSON numbers beyond 2**53 lose precision in many languages, which would break re-verification.
MAX_COUNT = 2**53 - 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
# One encoder for every entry: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Entry:
    """One decision about personal data, linked to the entry before it by `prev_hash`."""

    seq: int
    time: str
    actor: str
    action: str
    object: str
    purpose: str | None
    counts: Mapping[str, int]
    digest: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """The hub's signature over one entry's hash, vouching for every entry up to `seq`."""

    seq: int
    hash: str
    time: str
    signature: str
    key_id: str


def utc_timestamp(moment: datetime | None = None) -> str:
    """Format a time the one way the ledger accepts, so equal instants hash equally."""
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        raise LedgerError("the time has no time zone; pass an aware datetime, e.g. with tz=UTC")
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def _check_time(time: str, what: str) -> None:
    # The regex pins the exact shape (ASCII digits, 6 fraction digits, Z); parsing the ranges.
    if isinstance(time, str) and _TIME.fullmatch(time):
        try:
            datetime.fromisoformat(time[:-1])
        except ValueError:
            pass
        else:
            return
    raise LedgerError(
        f"{what} time {time!r} is not a UTC time like 2024-05-01T12:00:00.000000Z; "
        "use goodthings.core.ledger.chain.utc_timestamp()"
    )


def _shape_problem(entry: Entry) -> str:
    """Name the first field whose type makes the entry impossible to encode."""
    if not isinstance(entry.seq, int) or isinstance(entry.seq, bool):
        return f"seq must be a whole number, not {entry.seq!r}"
    for name in ("time", "actor", "action", "object", "digest", "prev_hash"):
        if not isinstance(getattr(entry, name), str):
            return f"{name} must be text, not {getattr(entry, name)!r}"
    if entry.purpose is not None and not isinstance(entry.purpose, str):
        return f"purpose must be text or None, not {entry.purpose!r}"
    return f"counts must be a mapping, not {entry.counts!r}"


def canonical_bytes(entry: Entry) -> bytes:
    """Encode every field but `hash` as canonical JSON (see the module docstring).

    Checks only what would make the encoding ambiguous, so the verifier can encode a tampered
    entry and report it as a hash mismatch rather than crash. This runs once per entry on
    every verification, hence the single combined type test before any detailed message.
    """
    seq, purpose, counts = entry.seq, entry.purpose, entry.counts
    texts = (entry.time, entry.actor, entry.action, entry.object, entry.digest, entry.prev_hash)
    if not (
        isinstance(seq, int)
        and not isinstance(seq, bool)
        and all(isinstance(text, str) for text in texts)
        and (purpose is None or isinstance(purpose, str))
        and isinstance(counts, Mapping)
    ):
        raise LedgerError(_shape_problem(entry))
    for key, value in counts.items():
        # JSON would silently turn 1 into "1" and True into true: both change the meaning.
        if not isinstance(key, str):
            raise LedgerError(f"counts key {key!r} must be text")
        if not isinstance(value, int) or isinstance(value, bool):
            raise LedgerError(f"counts[{key!r}] must be a whole number, not {value!r}")
    text = _ENCODER.encode(
        {
            "seq": seq,
            "time": entry.time,
            "actor": entry.actor,
            "action": entry.action,
            "object": entry.object,
            "purpose": purpose,
            "counts": counts if isinstance(counts, dict) else dict(counts),
            "digest": entry.digest,
            "prev_hash": entry.prev_hash,
        }
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LedgerError(f"the entry holds text that is not valid Unicode: {exc}") from exc


def entry_hash(entry: Entry) -> str:
    """The hash an entry should carry, whatever its `hash` field says."""
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def make_entry(
    prev: Entry | None,
    *,
    time: str,
    actor: str,
    action: str,
    object: str,
    purpose: str | None,
    counts: Mapping[str, int],
    digest: str,
) -> Entry:
    """Build the entry that follows `prev` (or the first entry), refusing anything malformed.

    Validation is strict here, at the only place entries are created, so every entry in a
    ledger can be re-encoded identically by any conforming implementation.
    """
    _check_time(time, "the entry")
    for name, value in (("actor", actor), ("action", action)):
        if not isinstance(value, str) or not value:
            raise LedgerError(f"the entry's {name} must be non-empty text, not {value!r}")
    if not isinstance(object, str):
        raise LedgerError(f"the entry's object must be text, not {object!r}")
    if purpose is not None and (not isinstance(purpose, str) or not purpose):
        raise LedgerError(f"the entry's purpose must be non-empty text or None, not {purpose!r}")
    if not isinstance(digest, str) or (digest and not _HEX64.fullmatch(digest)):
        raise LedgerError(
            f"the entry's digest must be 64 lowercase hex digits or '', not {digest!r}; "
            "use goodthings.core.ledger.chain.content_digest()"
        )
    if not isinstance(counts, Mapping):
        raise LedgerError(f"the entry's counts must be a mapping, not {counts!r}")
    for key, number in counts.items():
        # Printable ASCII names sort the same by code point (Python) and UTF-16 unit (RFC 8785).
        if not isinstance(key, str) or not key or not all(" " <= c <= "~" for c in key):
            raise LedgerError(f"counts key {key!r} must be non-empty printable ASCII")
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= MAX_COUNT:
            raise LedgerError(f"counts[{key!r}] must be a whole number from 0 to 2**53-1")
    draft = Entry(
        seq=1 if prev is None else prev.seq + 1,
        time=time,
        actor=actor,
        action=action,
        object=object,
        purpose=purpose,
        counts=dict(counts),  # a copy: the caller mutating its dict must not change the entry
        digest=digest,
        prev_hash=GENESIS_HASH if prev is None else prev.hash,
        hash="",
    )
    return replace(draft, hash=entry_hash(draft))


def content_digest(parts: Iterable[bytes]) -> str:
    """Hash a batch so the ledger can prove which data a decision was about.

    Each part is length-prefixed: with plain concatenation, moving bytes from one part to the
    next (["ab", "c"] vs ["a", "bc"]) would keep the digest and hide the change.
    """
    hasher = hashlib.sha256()
    for part in parts:
        if not isinstance(part, bytes | bytearray):
            raise LedgerError(f"content parts must be bytes, not {type(part).__name__}")
        hasher.update(len(part).to_bytes(8, "big"))
        hasher.update(part)
    return hasher.hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint, so an operator can tell which key signed without comparing PEMs."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def checkpoint_statement(seq: int, hash: str, time: str) -> bytes:
    """The exact bytes signed; versioned and labelled so no other signed message can pass."""
    return CHECKPOINT_PREFIX + f"{seq}\n{hash}\n{time}".encode()


def sign_checkpoint(entry: Entry, private_key: Ed25519PrivateKey, time: str) -> Checkpoint:
    """Sign `entry`'s hash, which vouches for every entry up to it through the chain."""
    _check_time(time, "the checkpoint")
    if not _HEX64.fullmatch(entry.hash):
        raise LedgerError(f"entry {entry.seq} has no valid hash to sign: {entry.hash!r}")
    signature = private_key.sign(checkpoint_statement(entry.seq, entry.hash, time))
    return Checkpoint(
        seq=entry.seq,
        hash=entry.hash,
        time=time,
        signature=base64.b64encode(signature).decode("ascii"),
        key_id=key_id(private_key.public_key()),
    )


def checkpoint_due(
    last_checkpoint_seq: int,
    last_checkpoint_time: float,
    seq: int,
    now: float,
    every_entries: int = 100,
    every_seconds: float = 1.0,
) -> bool:
    """Whether to sign now: bounds how many entries, and for how long, are only chain-protected.

    Until signed, the newest entries can be rewritten or cut off without trace (see
    `VerifyResult.unsigned_tail`). `last_checkpoint_time` and `now` must come from the same
    clock. With no checkpoint yet (`last_checkpoint_seq` 0) the first entry is signed at once,
    whatever the clock says, so a ledger is anchored to the key from the start. If the clock
    went backwards, sign: an early signature costs little, a late one exposes.
    """
    if every_entries < 1 or not every_seconds > 0:
        raise LedgerError("checkpoint policy needs every_entries >= 1 and every_seconds > 0")
    unsigned = seq - last_checkpoint_seq
    if unsigned <= 0:
        return False
    if last_checkpoint_seq == 0 or unsigned >= every_entries:
        return True
    elapsed = now - last_checkpoint_time
    return elapsed < 0 or elapsed >= every_seconds


def public_key_from_pem(data: bytes) -> Ed25519PublicKey:
    """Load the key auditors verify with, refusing anything but Ed25519 with a clear reason."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        hint = (
            " (this is a private key; pass the public key instead)"
            if b"PRIVATE KEY" in data
            else ""
        )
        raise LedgerError(f"cannot read the ledger public key as PEM{hint}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise LedgerError(
            f"the ledger public key is a {type(key).__name__}, but the ledger needs an Ed25519 key"
        )
    return key


def private_key_from_pem(data: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    """Load the hub's signing key, refusing anything but Ed25519 with a clear reason."""
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except TypeError as exc:  # cryptography's way of saying the password is missing or unneeded
        raise LedgerError(f"cannot read the ledger private key: {exc}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise LedgerError(
            f"cannot read the ledger private key as PEM (wrong password, or not a key): {exc}"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise LedgerError(
            f"the ledger private key is a {type(key).__name__}, but the ledger needs an Ed25519 key"
        )
    return key
