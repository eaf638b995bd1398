"""The assessment report as a signed document in the shape of ETSI TS 103 701.

TS 103 701 assesses a product against EN 303 645 in three parts: an implementation conformance
statement per provision (is it met: yes, no, not applicable), the implementation information
the assessor relied on, and a verdict per test case (pass, fail, inconclusive, not applicable).
The report follows that shape for every standard in the catalogue, so an auditor used to the
ETSI scheme finds each part where they expect it, and adds what the scheme has no place for:
the evidence measured from the live store, each item with its own hash, and the ledger
position the assessment was made at.

The report is signed over its canonical JSON (sorted keys, no spaces), so any change to a value
breaks the signature while a reader may still pretty-print it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.assessment.assess import Assessment, ControlResult
from goodthings.assessment.evidence import Verdict
from goodthings.core.ledger import key_id

REPORT_FORMAT = "goodthings-assessment-report/1"
_SIGNED_PREFIX = b"goodthings assessment report v1\n"

_TEST_VERDICT = {
    Verdict.passed: "pass",
    Verdict.failed: "fail",
    Verdict.not_applicable: "not applicable",
    Verdict.not_assessed: "inconclusive",
}
"""TS 103 701's verdicts: a control nobody could assess automatically is inconclusive."""

_CONFORMANCE = {
    Verdict.passed: "yes",
    Verdict.failed: "no",
    Verdict.not_applicable: "not applicable",
    Verdict.not_assessed: "not assessed",
}

_RANK = {"fail": 0, "inconclusive": 1, "not applicable": 2, "pass": 3}
"""Worse to better, to say what changed since the previous report."""


@dataclass(frozen=True)
class LedgerPosition:
    """The signed ledger checkpoint an assessment was made at: evidence that it saw this state."""

    seq: int
    hash: str
    time: str
    signature: str
    key_id: str


def canonical(document: Mapping[str, Any]) -> bytes:
    """The one byte form of a document that is signed and hashed."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def evidence_hash(check: str, values: Mapping[str, Any], measured_at: str) -> str:
    """What an evidence item's hash covers: the check, every value, and when it was measured."""
    item = {"check": check, "measured_at": measured_at, "values": dict(values)}
    return hashlib.sha256(canonical(item)).hexdigest()


def build_report(
    assessment: Assessment,
    *,
    deployment: str,
    ledger: LedgerPosition | None,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The report document: summary, conformance statement, verdicts with evidence, changes."""
    verdicts = [_verdict(result) for result in assessment.results]
    counts = {name: 0 for name in _RANK}
    for verdict in verdicts:
        counts[verdict["verdict"]] += 1
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "deployment": deployment,
        "catalogue_version": assessment.catalogue_version,
        "measured_at": assessment.measured_at,
        "summary": counts,
        "conformance_statement": [_statement(result) for result in assessment.results],
        "verdicts": verdicts,
        "ledger": None if ledger is None else vars(ledger),
        "changes": changes_since(previous, verdicts),
    }
    return report


def sign_report(report: Mapping[str, Any], signer: Ed25519PrivateKey) -> dict[str, Any]:
    """The report with its Ed25519 signature, as `goodthings assess --format json` prints it."""
    signature = signer.sign(_SIGNED_PREFIX + canonical(report))
    return {
        "report": dict(report),
        "signature": {
            "algorithm": "Ed25519",
            "key_id": key_id(signer.public_key()),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


SIGNATURE_BROKEN = "the report's signature does not match its content: it was changed"


def signature_holds(signed: Mapping[str, Any], public_key: Ed25519PublicKey) -> bool:
    """Whether `public_key` signed exactly this report: the signature covers every value of
    it, the evidence hashes included, so nothing in a report that holds was changed."""
    report, signature = signed.get("report"), signed.get("signature")
    if not isinstance(report, dict) or not isinstance(signature, dict):
        return False
    try:
        public_key.verify(
            base64.b64decode(str(signature.get("value", "")), validate=True),
            _SIGNED_PREFIX + canonical(report),
        )
    except (InvalidSignature, ValueError):
        return False
    return True


def report_problems(signed: Mapping[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """Everything about a signed report that does not hold, in words; empty when it verifies."""
    report, signature = signed.get("report"), signed.get("signature")
    if not isinstance(report, dict) or not isinstance(signature, dict):
        return ["the document is not a signed assessment report (it needs report and signature)"]
    problems = []
    if report.get("format") != REPORT_FORMAT:
        problems.append(f"the report's format is {report.get('format')!r}, not {REPORT_FORMAT}")
    if signature.get("key_id") != key_id(public_key):
        problems.append(
            f"the report names signing key {signature.get('key_id')!r}, "
            f"but the public key given is {key_id(public_key)}"
        )
    if not signature_holds(signed, public_key):
        problems.append(SIGNATURE_BROKEN)
    for item in report.get("verdicts", []):
        evidence = item.get("evidence", {})
        expected = evidence_hash(
            str(item.get("test")), evidence.get("values", {}), str(evidence.get("measured_at"))
        )
        if evidence.get("sha256") != expected:
            problems.append(f"the evidence of {item.get('provision')} does not match its hash")
    return problems


def report_digest(report: Mapping[str, Any]) -> str:
    """What the ledger entry recording a report holds of it."""
    return hashlib.sha256(canonical(report)).hexdigest()


def changes_since(
    previous: Mapping[str, Any] | None, verdicts: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """What got worse and what got better since the previous report, control by control."""
    if previous is None:
        return None
    before = {item["provision"]: item["verdict"] for item in previous.get("verdicts", [])}
    worse: list[dict[str, str]] = []
    better: list[dict[str, str]] = []
    for item in verdicts:
        old = before.get(item["provision"])
        if old is None or old == item["verdict"]:
            continue
        change = {"provision": item["provision"], "was": old, "now": item["verdict"]}
        (worse if _RANK[item["verdict"]] < _RANK.get(old, 0) else better).append(change)
    return {"since": previous.get("measured_at"), "worse": worse, "better": better}


def _verdict(result: ControlResult) -> dict[str, Any]:
    control, finding = result.control, result.finding
    test = control.check or control.id
    values = {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in finding.evidence.items()
    }
    measured_at = finding.measured_at
    return {
        "test": test,
        "provision": control.id,
        "verdict": _TEST_VERDICT[finding.verdict],
        "summary": finding.summary,
        "evidence": {
            "method": str(control.collection),
            "measured_at": measured_at,
            "values": values,
            "sha256": evidence_hash(test, values, measured_at),
        },
    }


def _statement(result: ControlResult) -> dict[str, Any]:
    control, finding = result.control, result.finding
    return {
        "provision": control.id,
        "standard": str(control.standard),
        "reference": control.reference,
        "title": control.title,
        "status": _CONFORMANCE[finding.verdict],
        "implementation_information": control.evidence,
    }
