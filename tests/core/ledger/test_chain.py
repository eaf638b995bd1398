"""The ledger's hash chain and signed checkpoints: every kind of tampering is caught and named."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.anchors import Anchor, Head
from goodthings.core.ledger.chain import (
    GENESIS_HASH,
    Checkpoint,
    Entry,
    canonical_bytes,
    checkpoint_due,
    checkpoint_statement,
    content_digest,
    entry_hash,
    key_id,
    make_entry,
    private_key_from_pem,
    public_key_from_pem,
    sign_checkpoint,
    utc_timestamp,
)
from goodthings.core.ledger.verify import VerifyResult, verify

KEY = Ed25519PrivateKey.generate()
PUBLIC = KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.generate()

LENGTH = 53  # checkpoints at 10, 20, 30, 40, 50, then an unsigned tail of 3
ACTORS = ["device:meter-1", "subject:alex", "app:dashboard", "operator", "hub"]
ACTIONS = ["ingest", "read", "consent.give", "erase", "manifest.apply"]


def at(second: int) -> str:
    return utc_timestamp(datetime(2024, 5, 1, 12, tzinfo=UTC) + timedelta(seconds=second))


def extend(prev: Entry | None, count: int, *, note: str = "") -> list[Entry]:
    """Append `count` entries after `prev`, each different in every field so flips show."""
    entries: list[Entry] = []
    for _ in range(count):
        seq = 1 if prev is None else prev.seq + 1
        prev = make_entry(
            prev,
            time=at(seq),
            actor=ACTORS[seq % len(ACTORS)],
            action=ACTIONS[seq % len(ACTIONS)],
            object=f"stream:power/{seq}{note}",
            purpose="billing" if seq % 2 else None,
            counts={"stored": seq, "dropped.no_consent": seq % 3},
            digest=content_digest([f"reading {seq}".encode(), b"batch"]) if seq % 7 else "",
        )
        entries.append(prev)
    return entries


def sign_every_tenth(entries: list[Entry], key: Ed25519PrivateKey = KEY) -> list[Checkpoint]:
    return [sign_checkpoint(e, key, at(e.seq + 1)) for e in entries if e.seq % 10 == 0]


def build() -> tuple[list[Entry], list[Checkpoint]]:
    entries = extend(None, LENGTH)
    return entries, sign_every_tenth(entries)


def failed(result: VerifyResult, first_bad_seq: int | None, *reason_parts: str) -> bool:
    """True when verification failed at `first_bad_seq` with a reason naming every part."""
    assert not result.ok, result
    assert result.first_bad_seq == first_bad_seq, result
    assert result.reason is not None
    for part in reason_parts:
        assert part in result.reason, result.reason
    return True


def flip(text: str) -> str:
    """Change one character in the middle, keeping hex text hex."""
    middle = len(text) // 2
    return text[:middle] + ("1" if text[middle] == "0" else "0") + text[middle + 1 :]


# The arguments of a valid make_entry call, for tests that change one of them.
GOOD: dict[str, object] = {
    "time": "2024-05-01T12:00:00.000000Z",
    "actor": "hub",
    "action": "ingest",
    "object": "stream:power",
    "purpose": None,
    "counts": {"stored": 1},
    "digest": "",
}


# ---------------------------------------------------------------- an untouched ledger passes


def test_untouched_ledger_verifies_and_reports_its_unsigned_tail() -> None:
    entries, checkpoints = build()
    assert verify(entries, checkpoints, PUBLIC) == VerifyResult(
        ok=True,
        entries=53,
        checkpoints=5,
        first_bad_seq=None,
        reason=None,
        last_checkpoint_seq=50,
        unsigned_tail=3,
    )


def test_verify_consumes_entries_as_a_one_pass_stream() -> None:
    entries, checkpoints = build()

    def cursor() -> Iterator[Entry]:
        yield from entries

    result = verify(cursor(), checkpoints, PUBLIC)
    assert result.ok
    assert result.entries == LENGTH


def test_empty_ledger_verifies_with_zero_entries() -> None:
    result = verify([], [], PUBLIC)
    assert result.ok
    assert (result.entries, result.checkpoints, result.unsigned_tail) == (0, 0, 0)
    assert result.last_checkpoint_seq is None


def test_ledger_emptied_after_a_checkpoint_is_caught_as_truncated() -> None:
    _, checkpoints = build()
    assert failed(verify([], checkpoints, PUBLIC), 1, "ends at entry 0", "removed")


# ---------------------------------------------------------------- changing a written entry

TAMPERED = 25  # in the middle, not itself at a checkpoint
CHANGED = "its hash does not match its content (changed after it was written)"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(lambda e: replace(e, actor=flip(e.actor)), CHANGED, id="actor"),
        pytest.param(lambda e: replace(e, action=flip(e.action)), CHANGED, id="action"),
        pytest.param(lambda e: replace(e, object=flip(e.object)), CHANGED, id="object"),
        pytest.param(lambda e: replace(e, purpose=flip(e.purpose)), CHANGED, id="purpose"),
        pytest.param(lambda e: replace(e, purpose=None), CHANGED, id="purpose-removed"),
        pytest.param(
            lambda e: replace(e, counts={**e.counts, "stored": e.counts["stored"] + 1}),
            CHANGED,
            id="counts-value",
        ),
        pytest.param(
            lambda e: replace(e, counts={"stored": e.counts["stored"], "dropped.no_consenT": 1}),
            CHANGED,
            id="counts-key",
        ),
        pytest.param(lambda e: replace(e, digest=flip(e.digest)), CHANGED, id="digest"),
        pytest.param(lambda e: replace(e, time=flip(e.time)), CHANGED, id="time"),
        pytest.param(
            lambda e: replace(e, prev_hash=flip(e.prev_hash)),
            "its prev_hash does not match the hash of entry 24",
            id="prev_hash",
        ),
        pytest.param(lambda e: replace(e, hash=flip(e.hash)), CHANGED, id="hash"),
        pytest.param(lambda e: replace(e, seq=e.seq + 100), "entry 25 is missing", id="seq"),
        pytest.param(
            lambda e: replace(e, counts={**e.counts, "stored": True}),
            "cannot be encoded (counts['stored'] must be a whole number",
            id="counts-bool",
        ),
        pytest.param(
            lambda e: replace(e, actor=None), "cannot be encoded (actor must be text", id="no-actor"
        ),
        pytest.param(
            lambda e: replace(e, counts=[("stored", 1)]),
            "cannot be encoded (counts must be a mapping",
            id="counts-list",
        ),
        pytest.param(lambda e: replace(e, seq="25"), "not a whole number", id="seq-text"),
    ],
)
def test_changing_any_field_of_an_entry_is_caught_at_that_entry(
    change: Callable[[Entry], Entry], reason: str
) -> None:
    entries, checkpoints = build()
    entries[TAMPERED - 1] = change(entries[TAMPERED - 1])
    assert failed(verify(entries, checkpoints, PUBLIC), TAMPERED, f"entry {TAMPERED}", reason)


def test_changing_the_first_entrys_prev_hash_is_caught_as_not_genesis() -> None:
    entries, checkpoints = build()
    entries[0] = replace(entries[0], prev_hash=flip(GENESIS_HASH))
    assert failed(verify(entries, checkpoints, PUBLIC), 1, "genesis")


# ---------------------------------------------------------------- removing, moving, adding


@pytest.mark.parametrize(
    ("deleted", "reason"),
    [
        (1, "does not start at entry 1"),
        (25, "entry 25 is missing"),
        (30, "entry 30 is missing"),  # the very entry a checkpoint signed
    ],
)
def test_deleting_an_entry_is_caught_where_it_was(deleted: int, reason: str) -> None:
    entries, checkpoints = build()
    del entries[deleted - 1]
    assert failed(verify(entries, checkpoints, PUBLIC), deleted, reason)


@pytest.mark.parametrize("first", [24, 30, 52])
def test_swapping_two_neighbouring_entries_is_caught_at_the_first(first: int) -> None:
    entries, checkpoints = build()
    i = first - 1
    entries[i], entries[i + 1] = entries[i + 1], entries[i]
    assert failed(verify(entries, checkpoints, PUBLIC), first, f"entry {first} is missing")


def test_duplicating_an_entry_is_caught_at_the_copy() -> None:
    entries, checkpoints = build()
    entries.insert(25, entries[24])
    assert failed(verify(entries, checkpoints, PUBLIC), 26, "numbered 25", "duplicated")


def forged_after(entries: list[Entry], seq: int) -> Entry:
    """A well-formed entry whose own hash is correct, chained onto entry `seq`."""
    return make_entry(
        entries[seq - 1],
        time=at(seq),
        actor="operator",
        action="erase",
        object="subject:alex",
        purpose=None,
        counts={"erased": 0},
        digest="",
    )


def test_inserting_a_forged_entry_is_caught_by_the_seq_of_the_next() -> None:
    entries, checkpoints = build()
    entries.insert(24, forged_after(entries, 24))
    assert failed(verify(entries, checkpoints, PUBLIC), 26, "numbered 25")


def test_inserting_a_forged_entry_and_renumbering_is_caught_by_the_next_prev_hash() -> None:
    entries, checkpoints = build()
    renumbered = [replace(e, seq=e.seq + 1) for e in entries[24:]]
    entries = [*entries[:24], forged_after(entries, 24), *renumbered]
    assert failed(verify(entries, checkpoints, PUBLIC), 26, "prev_hash does not match")


def test_replacing_an_entry_with_a_correctly_hashed_forgery_is_caught_by_the_next() -> None:
    entries, checkpoints = build()
    entries[24] = forged_after(entries, 24)
    assert failed(
        verify(entries, checkpoints, PUBLIC), 26, "prev_hash does not match the hash of entry 25"
    )


def test_forged_suffix_rehashed_end_to_end_is_caught_by_the_next_checkpoint() -> None:
    entries, checkpoints = build()
    forged = entries[:24] + extend(entries[23], LENGTH - 24, note="-forged")
    assert failed(
        verify(forged, checkpoints, PUBLIC), 30, "checkpoint at entry 30", "rewritten after"
    )


# ---------------------------------------------------------------- cutting off the end


@pytest.mark.parametrize(("kept", "first_missing"), [(45, 46), (49, 50), (12, 13)])
def test_truncating_entries_a_checkpoint_covers_is_caught(kept: int, first_missing: int) -> None:
    entries, checkpoints = build()
    result = verify(entries[:kept], checkpoints, PUBLIC)
    assert failed(result, first_missing, f"ends at entry {kept}", "removed from the end")


@pytest.mark.parametrize(("kept", "tail"), [(50, 0), (52, 2)])
def test_truncating_only_the_unsigned_tail_passes_but_the_tail_is_reported(
    kept: int, tail: int
) -> None:
    entries, checkpoints = build()
    result = verify(entries[:kept], checkpoints, PUBLIC)
    assert result.ok
    assert (result.last_checkpoint_seq, result.unsigned_tail) == (50, tail)


def test_the_unsigned_tail_can_be_rewritten_unnoticed_until_the_next_checkpoint() -> None:
    entries, checkpoints = build()
    forged = entries[:50] + extend(entries[49], 3, note="-forged")
    assert verify(forged, checkpoints, PUBLIC).ok
    late = sign_checkpoint(entries[52], KEY, at(60))  # the hub signs what it really wrote
    assert failed(verify(forged, [*checkpoints, late], PUBLIC), 53, "rewritten after")


# ---------------------------------------------------------------- tampering with checkpoints


def resign(checkpoint: Checkpoint, *, hash: str) -> Checkpoint:
    """A checkpoint over a different hash, validly signed by the real key."""
    statement = checkpoint_statement(checkpoint.seq, hash, checkpoint.time)
    signature = base64.b64encode(KEY.sign(statement)).decode()
    return replace(checkpoint, hash=hash, signature=signature)


def flip_base64(signature: str) -> str:
    middle = len(signature) // 2
    return signature[:middle] + ("A" if signature[middle] != "A" else "B") + signature[middle + 1 :]


FORGED_30 = extend(None, 30, note="-forged")[-1]
NOT_VALID = "signature does not verify with the ledger's public key"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param(lambda c: replace(c, signature=flip_base64(c.signature)), NOT_VALID, id="sig"),
        pytest.param(lambda c: replace(c, signature="not base64!"), "not valid base64", id="b64"),
        pytest.param(lambda c: replace(c, signature=""), NOT_VALID, id="sig-empty"),
        pytest.param(lambda c: replace(c, hash=flip(c.hash)), NOT_VALID, id="hash-unsigned"),
        pytest.param(lambda c: replace(c, time=flip(c.time)), NOT_VALID, id="time"),
        pytest.param(lambda c: replace(c, key_id=flip(c.key_id)), "key id was changed", id="key"),
        pytest.param(
            lambda c: sign_checkpoint(FORGED_30, OTHER_KEY, c.time), "another key", id="other-key"
        ),
        pytest.param(
            lambda c: replace(sign_checkpoint(FORGED_30, OTHER_KEY, c.time), key_id=c.key_id),
            NOT_VALID,
            id="other-key-claiming-ours",
        ),
        pytest.param(
            lambda c: resign(c, hash=flip(c.hash)),
            "the signed hash does not match entry 30",
            id="hash-signed",
        ),
    ],
)
def test_a_bad_checkpoint_is_caught_at_the_entry_it_covers(
    change: Callable[[Checkpoint], Checkpoint], reason: str
) -> None:
    entries, checkpoints = build()
    checkpoints[2] = change(checkpoints[2])  # the one at entry 30
    assert failed(verify(entries, checkpoints, PUBLIC), 30, "checkpoint at entry 30", reason)


def test_a_checkpoint_moved_to_another_entry_is_caught_by_its_signature() -> None:
    entries, checkpoints = build()
    checkpoints[2] = replace(checkpoints[2], seq=31, hash=entries[30].hash)
    assert failed(verify(entries, checkpoints, PUBLIC), 31, NOT_VALID)


@pytest.mark.parametrize(
    ("order", "bad"),
    [([0, 2, 1, 3, 4], 20), ([0, 1, 1, 2, 3, 4], 20), ([4, 0, 1, 2, 3], 10)],
    ids=["swapped", "duplicated", "last-first"],
)
def test_checkpoints_out_of_increasing_order_are_caught(order: list[int], bad: int) -> None:
    entries, checkpoints = build()
    shuffled = [checkpoints[i] for i in order]
    assert failed(verify(entries, shuffled, PUBLIC), bad, "increasing order")


def test_a_forged_checkpoint_beyond_the_end_is_caught_by_its_signature_not_as_truncation() -> None:
    entries, checkpoints = build()
    beyond = extend(None, 60, note="-forged")[-1]
    forged = sign_checkpoint(beyond, OTHER_KEY, at(61))
    assert failed(verify(entries, [*checkpoints, forged], PUBLIC), 60, "another key")


@pytest.mark.parametrize("seq", [0, -1])
def test_a_checkpoint_naming_an_impossible_entry_is_caught(seq: int) -> None:
    entries, checkpoints = build()
    checkpoints[0] = replace(checkpoints[0], seq=seq)
    assert failed(verify(entries, checkpoints, PUBLIC), None, "cannot exist")


def test_the_earliest_fault_is_reported_whichever_list_it_is_in() -> None:
    entries, checkpoints = build()
    entries[11] = replace(entries[11], actor="operator")
    checkpoints[3] = replace(checkpoints[3], signature=flip_base64(checkpoints[3].signature))
    assert failed(verify(entries, checkpoints, PUBLIC), 12, "entry 12")
    entries, checkpoints = build()
    checkpoints[1] = replace(checkpoints[1], signature=flip_base64(checkpoints[1].signature))
    entries[34] = replace(entries[34], actor="operator")
    assert failed(verify(entries, checkpoints, PUBLIC), 20, "checkpoint at entry 20")


# ---------------------------------------------------------------- a ledger forged from scratch


def test_forged_chain_keeping_the_real_checkpoints_fails_at_the_first() -> None:
    _, checkpoints = build()
    forged = extend(None, LENGTH, note="-forged")
    assert failed(verify(forged, checkpoints, PUBLIC), 10, "rewritten after")


def test_forged_chain_signed_by_another_key_fails_at_the_first_checkpoint() -> None:
    forged = extend(None, LENGTH, note="-forged")
    assert failed(verify(forged, sign_every_tenth(forged, OTHER_KEY), PUBLIC), 10, "another key")


def test_a_chain_with_entries_but_no_checkpoint_is_refused() -> None:
    forged = extend(None, LENGTH, note="-forged")
    result = verify(forged, [], PUBLIC)
    assert failed(result, 1, "53 entries but no signed checkpoint", "deleted")
    assert (result.last_checkpoint_seq, result.unsigned_tail) == (None, LENGTH)


def test_an_unsigned_tail_within_the_allowed_limit_passes() -> None:
    entries, checkpoints = build()
    assert verify(entries, checkpoints, PUBLIC, max_unsigned_tail=3).ok
    assert failed(verify(entries, checkpoints, PUBLIC, max_unsigned_tail=2), 51, "at most 2")


# ---------------------------------------------------------------- the format, for auditors


def test_canonical_encoding_is_sorted_compact_utf8_json_without_the_hash() -> None:
    entry = make_entry(
        None,
        time="2024-05-01T12:00:00.000000Z",
        actor="device:meter-1",
        action="ingest",
        object="room:Küche",
        purpose=None,
        counts={"stored": 10, "dropped.no_consent": 2},
        digest="",
    )
    assert (
        canonical_bytes(entry)
        == (
            '{"action":"ingest","actor":"device:meter-1",'
            '"counts":{"dropped.no_consent":2,"stored":10},"digest":"",'
            f'"object":"room:Küche","prev_hash":"{"0" * 64}","purpose":null,"seq":1,'
            '"time":"2024-05-01T12:00:00.000000Z"}'
        ).encode()
    )
    assert entry.hash == hashlib.sha256(canonical_bytes(entry)).hexdigest() == entry_hash(entry)


def test_canonical_encoding_escapes_only_what_json_must() -> None:
    entry = make_entry(None, **{**GOOD, "object": 'a"b\\c\nd\x01\x7fé😀'})  # type: ignore[arg-type]
    assert b'"object":"a\\"b\\\\c\\nd\\u0001\x7f\xc3\xa9\xf0\x9f\x98\x80"' in canonical_bytes(entry)


def test_checkpoint_signs_a_labelled_statement_an_auditor_can_check_with_any_ed25519() -> None:
    entries, _ = build()
    checkpoint = sign_checkpoint(entries[9], KEY, "2024-05-01T13:00:00.000000Z")
    statement = (
        f"goodthings-ledger-checkpoint:v1\n10\n{entries[9].hash}\n2024-05-01T13:00:00.000000Z"
    )
    PUBLIC.verify(base64.b64decode(checkpoint.signature), statement.encode())
    raw = PUBLIC.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert checkpoint.key_id == key_id(PUBLIC) == hashlib.sha256(raw).hexdigest()[:16]


def test_content_digest_is_sha256_over_length_prefixed_parts() -> None:
    expected = hashlib.sha256(b"\0\0\0\0\0\0\0\x02ab\0\0\0\0\0\0\0\x01c").hexdigest()
    assert content_digest([b"ab", b"c"]) == expected


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ([b"ab", b"c"], [b"a", b"bc"]),
        ([b"abc"], [b"ab", b"c"]),
        ([], [b""]),
        ([b""], [b"", b""]),
    ],
)
def test_content_digest_tells_apart_batches_with_the_same_concatenation(
    one: list[bytes], other: list[bytes]
) -> None:
    assert content_digest(one) != content_digest(other)


def test_content_digest_refuses_text() -> None:
    with pytest.raises(LedgerError, match="must be bytes"):
        content_digest(["reading"])  # type: ignore[list-item]


# ---------------------------------------------------------------- making entries


def test_entries_chain_from_genesis_with_contiguous_seq() -> None:
    first, second = extend(None, 2)
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)


def test_entry_keeps_its_own_copy_of_counts() -> None:
    counts = {"stored": 1}
    entry = make_entry(None, **{**GOOD, "counts": counts})  # type: ignore[arg-type]
    counts["stored"] = 99
    assert entry.counts == {"stored": 1}
    assert verify([entry], [sign_checkpoint(entry, KEY, at(1))], PUBLIC).ok


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("time", "2024-05-01T12:00:00Z", "not a UTC time"),
        ("time", "2024-05-01T12:00:00.000000+00:00", "not a UTC time"),
        ("time", "2024-02-30T12:00:00.000000Z", "not a UTC time"),
        ("time", "２024-05-01T12:00:00.000000Z", "not a UTC time"),  # noqa: RUF001
        ("actor", "", "actor must be non-empty"),
        ("action", "", "action must be non-empty"),
        ("object", None, "object must be text"),
        ("purpose", "", "purpose must be non-empty"),
        ("digest", "ABC", "64 lowercase hex"),
        ("digest", "A" * 64, "64 lowercase hex"),
        ("counts", {"stored": -1}, "whole number from 0"),
        ("counts", {"stored": True}, "whole number from 0"),
        ("counts", {"stored": 2**53}, "whole number from 0"),
        ("counts", {"stored": 1.0}, "whole number from 0"),
        ("counts", {"": 1}, "printable ASCII"),
        ("counts", {"gespeichert ✓": 1}, "printable ASCII"),
        ("counts", {1: 1}, "printable ASCII"),
        ("counts", [("stored", 1)], "must be a mapping"),
    ],
)
def test_make_entry_refuses_malformed_fields(field: str, value: object, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        make_entry(None, **{**GOOD, field: value})  # type: ignore[arg-type]


def test_make_entry_refuses_text_that_is_not_valid_unicode() -> None:
    with pytest.raises(LedgerError, match="not valid Unicode"):
        make_entry(None, **{**GOOD, "object": "\ud800"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC), "2024-05-01T12:00:00.000005Z"),
        (
            datetime(2024, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2))),
            "2024-05-01T12:30:00.000000Z",
        ),
    ],
)
def test_utc_timestamp_always_writes_utc_with_microseconds(moment: datetime, expected: str) -> None:
    assert utc_timestamp(moment) == expected


def test_utc_timestamp_refuses_a_time_without_a_zone() -> None:
    with pytest.raises(LedgerError, match="no time zone"):
        utc_timestamp(datetime(2024, 5, 1, 12))


def test_utc_timestamp_defaults_to_now_in_the_entry_format() -> None:
    make_entry(None, **{**GOOD, "time": utc_timestamp()})  # type: ignore[arg-type]


def test_sign_checkpoint_refuses_a_malformed_time() -> None:
    entries, _ = build()
    with pytest.raises(LedgerError, match="not a UTC time"):
        sign_checkpoint(entries[0], KEY, "yesterday")


# ---------------------------------------------------------------- when to sign


@pytest.mark.parametrize(
    ("last_seq", "last_time", "seq", "now", "due"),
    [
        pytest.param(0, 0.0, 0, 5.0, False, id="empty-ledger"),
        pytest.param(0, 100.0, 1, 100.0, True, id="first-entry-at-once"),
        pytest.param(10, 100.0, 10, 500.0, False, id="nothing-new"),
        pytest.param(10, 100.0, 11, 100.5, False, id="few-and-recent"),
        pytest.param(10, 100.0, 11, 101.0, True, id="old-enough"),
        pytest.param(10, 100.0, 110, 100.0, True, id="many-enough"),
        pytest.param(10, 100.0, 109, 100.0, False, id="one-short"),
        pytest.param(10, 100.0, 11, 50.0, True, id="clock-went-back"),
    ],
)
def test_checkpoint_is_due_after_enough_entries_or_time(
    last_seq: int, last_time: float, seq: int, now: float, due: bool
) -> None:
    assert checkpoint_due(last_seq, last_time, seq, now) is due


def test_checkpoint_policy_must_be_positive() -> None:
    with pytest.raises(LedgerError, match="every_entries >= 1"):
        checkpoint_due(0, 0.0, 1, 1.0, every_entries=0)


# ---------------------------------------------------------------- keys


def test_keys_round_trip_through_pem() -> None:
    private_pem = KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    public_pem = PUBLIC.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    loaded = private_key_from_pem(private_pem, password=b"secret")
    entries, _ = build()
    checkpoint = sign_checkpoint(entries[9], loaded, at(11))
    assert verify(entries[:10], [checkpoint], public_key_from_pem(public_pem)).ok


EC_KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            EC_KEY.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "needs an Ed25519 key",
        ),
        (b"not a key", "cannot read the ledger public key"),
        (
            KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "this is a private key",
        ),
    ],
)
def test_public_key_from_pem_refuses_anything_but_an_ed25519_public_key(
    data: bytes, message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        public_key_from_pem(data)


@pytest.mark.parametrize(
    ("data", "password", "message"),
    [
        (
            EC_KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            None,
            "needs an Ed25519 key",
        ),
        (b"not a key", None, "cannot read the ledger private key"),
        (
            KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            None,
            "cannot read the ledger private key",
        ),
        (
            KEY.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            b"wrong",
            "wrong password",
        ),
    ],
    ids=["ec-key", "garbage", "encrypted-no-password", "wrong-password"],
)
def test_private_key_from_pem_refuses_anything_but_a_readable_ed25519_key(
    data: bytes, password: bytes | None, message: str
) -> None:
    with pytest.raises(LedgerError, match=message):
        private_key_from_pem(data, password=password)


# ---------------------------------------------------------------- the head and outside anchors


def head_of(entries: list[Entry], checkpoint_seq: int = 50) -> Head:
    return Head(entries[-1].seq, entries[-1].hash, checkpoint_seq)


def test_a_head_that_names_the_last_entry_and_checkpoint_passes() -> None:
    entries, checkpoints = build()
    assert verify(entries, checkpoints, PUBLIC, head=head_of(entries)).ok
    assert verify([], [], PUBLIC, head=Head(0, GENESIS_HASH, 0)).ok


@pytest.mark.parametrize(
    ("head", "first_bad", "words"),
    [
        (Head(55, "a" * 64, 50), 54, ("ends at entry 53", "head says entry 55")),
        (Head(52, "a" * 64, 50), 53, ("head says entry 52", "holds 53 entries")),
        (Head(53, "a" * 64, 50), 54, ("head's hash does not match entry 53",)),
    ],
)
def test_a_head_that_does_not_name_the_last_entry_is_caught(
    head: Head, first_bad: int, words: tuple[str, ...]
) -> None:
    entries, checkpoints = build()
    assert failed(verify(entries, checkpoints, PUBLIC, head=head), first_bad, *words)


def test_an_emptied_ledger_with_its_head_left_is_caught() -> None:
    assert failed(verify([], [], PUBLIC, head=Head(6, "a" * 64, 4)), 1, "empty", "6 entries")


def test_a_head_naming_a_deleted_checkpoint_is_caught() -> None:
    entries, checkpoints = build()
    head = head_of(entries, checkpoint_seq=60)
    assert failed(verify(entries, checkpoints, PUBLIC, head=head), 54, "checkpoint is at entry 60")


def test_an_anchor_that_matches_its_entry_passes_and_one_beyond_the_end_is_a_rollback() -> None:
    entries, checkpoints = build()
    seen = Anchor(52, entries[51].hash, "receipt alex.json")
    assert verify(entries, checkpoints, PUBLIC, anchors=[seen]).ok
    result = verify(entries[:50], checkpoints, PUBLIC, anchors=[seen])
    assert failed(result, 51, "receipt alex.json saw entry 52", "rolled back")


def test_an_anchor_whose_entry_was_rewritten_is_caught_even_in_the_unsigned_tail() -> None:
    entries, checkpoints = build()
    forged = entries[:50] + extend(entries[49], 3, note="-forged")
    seen = Anchor(52, entries[51].hash, "receipt alex.json")
    assert failed(verify(forged, checkpoints, PUBLIC, anchors=[seen]), 52, "rewritten")


def test_a_witness_checkpoint_beyond_the_end_is_a_rollback() -> None:
    entries, checkpoints = build()
    result = verify(entries[:40], checkpoints[:4], PUBLIC, witness=checkpoints)
    assert failed(result, 41, "the witness file saw entry 50", "rolled back")


def test_a_witness_checkpoint_the_database_lost_is_caught() -> None:
    entries, checkpoints = build()
    result = verify(entries, checkpoints[:4], PUBLIC, witness=checkpoints)
    assert failed(result, 50, "witness holds a signed checkpoint at entry 50", "deleted")


def test_a_forged_witness_line_is_refused() -> None:
    entries, checkpoints = build()
    forged = replace(checkpoints[-1], seq=60)
    result = verify(entries, checkpoints, PUBLIC, witness=[forged])
    assert failed(result, None, "witness", "does not verify")
