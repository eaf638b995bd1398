"""Consent receipts: one per change, shaped after ISO/IEC TS 27560, signed, checked offline."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from cli_helpers import run
from goodthings.core import ledger
from goodthings.core.keys.files import SIGNING_PUBLIC_KEY
from goodthings.core.store import tables_portal as tp
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.rights.receipts import ReceiptError, read_anchors, sign, summary, verify
from goodthings.rights.receipts.consent import document
from goodthings.runtime.hub import Hub

CHANGE = consent.ConsentChange(
    "alex", "power", "ResearchAndDevelopment", "uni-energy-study", method="portal"
)


def _receipt(hub: Hub) -> str:
    record = consent.give(hub.engine, hub.signer, CHANGE)
    assert record.receipt_id is not None
    with hub.engine.connect() as connection:
        text = document(connection, "alex", record.receipt_id)
    assert text is not None
    return text


def test_every_consent_change_issues_one_receipt(smart_home: Hub) -> None:
    change = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation")
    consent.give(smart_home.engine, smart_home.signer, change)
    consent.withdraw(smart_home.engine, smart_home.signer, change)
    with smart_home.engine.connect() as connection:
        count = connection.execute(select(func.count()).select_from(tp.consent_receipts)).scalar()
        history = consent.history(connection, "alex")
    assert count == 2
    assert all(record.receipt_id for record in history)


def test_a_receipt_verifies_with_the_hubs_published_key(smart_home: Hub) -> None:
    checked = verify(_receipt(smart_home), smart_home.signer.public_key())
    assert checked.with_published_key
    assert summary(checked.receipt).state == "given"


_RECORD = "dpv:hasRecordOfActivity"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (
            (_RECORD, "dpv:hasConsentStatus", "@type"),
            ["dpv:ConsentWithdrawn", "dpv:ExpressedConsent"],
        ),
        ((_RECORD, "dpv:hasDataSubject", "dct:identifier"), "sam"),
        ((_RECORD, "dpv:hasConsentStatus", "dpv:isIndicatedAtTime", "@value"), "2020-01-01"),
        ((_RECORD, "dpv:hasNotice", "dct:identifier"), "0" * 64),
        ((_RECORD, "dpv:hasProcess", "dpv:hasRecipient"), [{"@id": "urn:x"}]),
        ((_RECORD, "dpv:hasProcess", "dpv:hasLegalBasis"), [{"@id": "dpv:LegitimateInterest"}]),
        (("dct:identifier",), "another-receipt"),
    ],
)
def test_any_change_to_a_receipt_breaks_its_signature(
    smart_home: Hub, path: tuple[str, ...], value: object
) -> None:
    envelope = json.loads(_receipt(smart_home))
    target = envelope["receipt"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReceiptError, match="signature does not match"):
        verify(json.dumps(envelope), smart_home.signer.public_key())
    with pytest.raises(ReceiptError, match="signature does not match"):
        verify(json.dumps(envelope))


def test_a_receipt_signed_by_another_key_is_refused(smart_home: Hub) -> None:
    receipt = json.loads(_receipt(smart_home))["receipt"]
    forged = sign(receipt, Ed25519PrivateKey.generate())
    verify(forged)  # consistent with the key it carries…
    with pytest.raises(ReceiptError):
        verify(forged, smart_home.signer.public_key())  # …but not signed by this hub


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (
            lambda e: e["receipt"][_RECORD]["dpv:hasProcess"].pop("dpv:hasPurpose"),
            r"lacks: purpose \(dpv:hasPurpose\)",
        ),
        (lambda e: e["receipt"].update(kind="other"), "ConsentReceipt of kind 'consent'"),
        (lambda e: e["receipt"].update(version=7), "unknown receipt version 7"),
        (
            lambda e: e["receipt"][_RECORD]["dpv:hasConsentStatus"].update({"@type": "x"}),
            r"event state \(ConsentGiven or ConsentWithdrawn\), event type",
        ),
        (lambda e: e["signature"].update(alg="RSA"), "unknown signature algorithm"),
        (lambda e: e["signature"].update(value="not base64!"), "signature does not match"),
        (lambda e: e.pop("signature"), "'receipt' and 'signature'"),
    ],
)
def test_malformed_receipts_are_named(smart_home: Hub, mangle: object, message: str) -> None:
    envelope = json.loads(_receipt(smart_home))
    mangle(envelope)  # type: ignore[operator]
    with pytest.raises(ReceiptError, match=message):
        verify(json.dumps(envelope))


def test_receipt_verify_command_exit_codes(
    smart_home: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "receipt.json"
    good.write_text(_receipt(smart_home))
    key = smart_home.home.keys_dir / SIGNING_PUBLIC_KEY
    ran = run(capsys, "receipt", "verify", str(good), "--public-key", str(key))
    assert ran.code == 0, ran.err
    assert "The receipt is valid: given consent for wattwise-m2/power" in ran.out
    ran = run(capsys, "receipt", "verify", str(good))
    assert ran.code == 0 and "pass --public-key" in ran.err
    envelope = json.loads(good.read_text())
    envelope["receipt"][_RECORD]["dpv:hasConsentStatus"]["@type"] = [
        "dpv:ConsentWithdrawn",
        "dpv:ExpressedConsent",
    ]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(envelope))
    ran = run(capsys, "receipt", "verify", str(bad), "--public-key", str(key))
    assert ran.code == 1 and "NOT valid" in ran.err
    assert run(capsys, "receipt", "verify", str(tmp_path / "missing.json")).code == 1


def test_the_embedded_key_is_the_signers(smart_home: Hub) -> None:
    envelope = json.loads(_receipt(smart_home))
    raw = base64.b64decode(envelope["signature"]["public_key"])
    assert len(raw) == 32


def test_a_receipt_carries_the_ledger_position_of_its_own_entry(smart_home: Hub) -> None:
    receipt = json.loads(_receipt(smart_home))["receipt"]
    with smart_home.engine.connect() as connection:
        entries = list(ledger.entries(connection))
    consent_entry = next(e for e in reversed(entries) if e.action == "consent.give")
    assert receipt["ledger"] == {"seq": consent_entry.seq, "hash": consent_entry.hash}


def test_an_erasure_receipt_carries_the_position_of_the_erasure_done_entry(
    smart_home: Hub,
) -> None:
    outcome = erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "sam")
    receipt = verify(outcome.receipt, smart_home.signer.public_key()).receipt
    with smart_home.engine.connect() as connection:
        last = list(ledger.entries(connection))[-1]
    assert last.action == "erase.done"
    assert receipt["ledger"] == {"seq": last.seq, "hash": last.hash}


def test_reading_anchors_refuses_a_changed_receipt_and_names_receipts_without_a_position(
    smart_home: Hub, tmp_path: Path
) -> None:
    public = smart_home.signer.public_key()
    text = _receipt(smart_home)
    (tmp_path / "good.json").write_text(text)
    envelope = json.loads(text)
    del envelope["receipt"]["ledger"]
    envelope["signature"]["value"] = json.loads(sign(envelope["receipt"], smart_home.signer))[
        "signature"
    ]["value"]
    (tmp_path / "old" / "before-positions.json").parent.mkdir()
    (tmp_path / "old" / "before-positions.json").write_text(json.dumps(envelope))
    found = read_anchors(tmp_path, public)
    assert [a.source for a in found.anchors] == ["receipt good.json"]
    assert found.without_position == ["old/before-positions.json"]
    changed = json.loads(text)
    changed["receipt"]["ledger"]["seq"] += 1
    (tmp_path / "good.json").write_text(json.dumps(changed))
    with pytest.raises(ReceiptError, match=r"receipt good\.json: the signature does not match"):
        read_anchors(tmp_path, public)
