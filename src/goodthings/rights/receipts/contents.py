"""What a receipt must hold to be a receipt, per version, and the few facts a reader shows.

Version 1 (no `version` key; issued before the JSON-LD receipts) is checked against the field
names it was issued with, so a receipt a person kept from then still verifies. Version 2 is
checked against the fields DPV's 27560 guide marks mandatory (`record.py` issues them), so a
receipt that lost one, or a hand-made one, is refused naming the field.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# ISO/IEC TS 27560 asks a consent record to carry these; an erasure receipt its own set.
_REQUIRED_V1: dict[str, tuple[str, ...]] = {
    "consent": (
        "record_id",
        "subject",
        "controller",
        "purposes",
        "data_categories",
        "recipients",
        "legal_basis",
        "notice",
        "time",
        "method",
        "state",
    ),
    "erasure": ("record_id", "subject", "controller", "requested_at", "mode", "time", "outcome"),
}

_STATES = {"dpv:ConsentGiven": "given", "dpv:ConsentWithdrawn": "withdrawn"}
_CONSENT_TYPES = {"dpv:ExpressedConsent", "dpv:ExplicitlyExpressedConsent"}
_ROLES = {
    "dpv:DataController",
    "dpv:DataProcessor",
    "dpv:ThirdParty",
    "dpv:Authority",
    "dpv:Representative",  # who gave a consent on the person's behalf
}


@dataclass(frozen=True)
class Summary:
    """What `receipt verify` tells the person the receipt is about."""

    kind: str
    subject_id: str
    time: str
    state: str | None = None
    stream: str | None = None
    purposes: tuple[str, ...] = ()
    mode: str | None = None


def version_of(receipt: Mapping[str, Any]) -> int:
    version = receipt.get("version", 1)
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


def problem(receipt: Mapping[str, Any]) -> str | None:
    """What is missing or malformed in a receipt's content, or None when it is complete."""
    version = version_of(receipt)
    if version == 1:
        found = _problem_v1(receipt)
    elif version == 2:
        found = _problem_v2(receipt)
    else:
        return f"unknown receipt version {receipt.get('version')!r}; expected 1 or 2"
    return found or _ledger_problem(receipt)


def summary(receipt: Mapping[str, Any]) -> Summary:
    """The facts of a receipt whose content `problem` found complete."""
    if version_of(receipt) == 1:
        return Summary(
            kind=receipt["kind"],
            subject_id=receipt["subject"]["id"],
            time=receipt["time"],
            state=receipt.get("state"),
            stream=receipt.get("stream"),
            purposes=tuple(p["purpose"] for p in receipt.get("purposes", [])),
            mode=receipt.get("mode"),
        )
    record = receipt["dpv:hasRecordOfActivity"]
    status = record["dpv:hasConsentStatus"]
    process = record["dpv:hasProcess"]
    return Summary(
        kind="consent",
        subject_id=record["dpv:hasDataSubject"]["dct:identifier"],
        time=status["dpv:isIndicatedAtTime"]["@value"],
        state=next(_STATES[name] for name in status["@type"] if name in _STATES),
        stream=process["schema:name"],
        purposes=(process["dpv:hasPurpose"]["@id"].rpartition("#")[2],),
    )


def _problem_v1(receipt: Mapping[str, Any]) -> str | None:
    kind = receipt.get("kind")
    if kind not in _REQUIRED_V1:
        return f"unknown receipt kind {kind!r}; expected one of: consent, erasure"
    missing = [name for name in _REQUIRED_V1[kind] if name not in receipt]
    if missing:
        return f"the {kind} receipt lacks: {', '.join(missing)}"
    subject = receipt["subject"]
    if not isinstance(subject, dict) or not isinstance(subject.get("id"), str):
        return "'subject' must be an object with the person's 'id'"
    if kind == "consent":
        if receipt["state"] not in {"given", "withdrawn"}:
            return f"'state' is {receipt['state']!r}; expected given or withdrawn"
        for name in ("purposes", "data_categories", "recipients"):
            if not isinstance(receipt[name], list):
                return f"'{name}' must be a list"
    return None


def _ledger_problem(receipt: Mapping[str, Any]) -> str | None:
    where = receipt.get("ledger")
    if where is not None and (
        not isinstance(where, dict)
        or not isinstance(where.get("seq"), int)
        or not isinstance(where.get("hash"), str)
    ):
        return "'ledger' must be an object with the entry's 'seq' and 'hash'"
    return None


def _types(node: Any) -> set[str]:
    found = node.get("@type", []) if isinstance(node, dict) else []
    return {found} if isinstance(found, str) else {t for t in found if isinstance(t, str)}


def _text(node: Any, key: str) -> bool:
    return isinstance(node, dict) and isinstance(node.get(key), str) and bool(node[key])


def _listed(node: Any, key: str) -> list[Any]:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else [] if value is None else [value]


# (the 27560 field, where it lives in the record, a test of its value)
_RECORD_FIELDS: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
    ("record id (dct:identifier)", lambda r: _text(r, "dct:identifier")),
    ("schema version (dct:conformsTo)", lambda r: _text(r.get("dct:conformsTo"), "@id")),
    (
        "data subject (dpv:hasDataSubject)",
        lambda r: _text(r.get("dpv:hasDataSubject"), "dct:identifier"),
    ),
    ("notice (dpv:hasNotice)", lambda r: "dpv:ConsentNotice" in _types(r.get("dpv:hasNotice"))),
    ("notice language (dct:language)", lambda r: _text(r.get("dpv:hasNotice"), "dct:language")),
    ("controller (dpv:hasDataController)", lambda r: _text(r.get("dpv:hasDataController"), "@id")),
    (
        "jurisdiction (dpv:hasJurisdiction)",
        lambda r: isinstance(r.get("dpv:hasJurisdiction"), dict),
    ),
    (
        "withdrawal method (dpv:hasConsentControl)",
        lambda r: "dpv:WithdrawConsent" in _types(r.get("dpv:hasConsentControl")),
    ),
    ("rights (dpv:hasRight)", lambda r: bool(_listed(r, "dpv:hasRight"))),
    ("process (dpv:hasProcess)", lambda r: isinstance(r.get("dpv:hasProcess"), dict)),
    ("parties (dpv:hasEntity)", lambda r: bool(_listed(r, "dpv:hasEntity"))),
    (
        "consent event (dpv:hasConsentStatus)",
        lambda r: isinstance(r.get("dpv:hasConsentStatus"), dict),
    ),
)

_PROCESS_FIELDS: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
    ("purpose (dpv:hasPurpose)", lambda p: _text(p.get("dpv:hasPurpose"), "@id")),
    ("personal data (dpv:hasPersonalData)", lambda p: _text(p.get("dpv:hasPersonalData"), "@id")),
    ("legal basis (dpv:hasLegalBasis)", lambda p: bool(_listed(p, "dpv:hasLegalBasis"))),
    ("recipients (dpv:hasRecipient)", lambda p: bool(_listed(p, "dpv:hasRecipient"))),
    (
        "storage location (dpv:StorageLocation)",
        lambda p: any(
            "dpv:StorageLocation" in _types(c) for c in _listed(p, "dpv:hasStorageCondition")
        ),
    ),
    (
        "retention period (dpv:StorageDuration)",
        lambda p: any(
            "dpv:StorageDuration" in _types(c) for c in _listed(p, "dpv:hasStorageCondition")
        ),
    ),
    ("stream (schema:name)", lambda p: _text(p, "schema:name")),
)

_EVENT_FIELDS: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
    ("event state (ConsentGiven or ConsentWithdrawn)", lambda e: bool(_types(e) & _STATES.keys())),
    (
        "event type (ExpressedConsent or ExplicitlyExpressedConsent)",
        lambda e: bool(_types(e) & _CONSENT_TYPES),
    ),
    (
        "event time (dpv:isIndicatedAtTime)",
        lambda e: _text(e.get("dpv:isIndicatedAtTime"), "@value"),
    ),
    ("validity (dpv:hasDuration)", lambda e: isinstance(e.get("dpv:hasDuration"), dict)),
    ("who expressed it (dpv:isIndicatedBy)", lambda e: _text(e.get("dpv:isIndicatedBy"), "@id")),
)


def _problem_v2(receipt: Mapping[str, Any]) -> str | None:
    if receipt.get("kind") != "consent" or "dpv:ConsentReceipt" not in _types(receipt):
        return "a version 2 receipt is a dpv:ConsentReceipt of kind 'consent'"
    for name, key in (("receipt id", "dct:identifier"), ("creation time", "dct:created")):
        value = receipt.get(key)
        if not (isinstance(value, str) and value) and not _text(value, "@value"):
            return f"the receipt lacks its {name} ({key})"
    if not _text(receipt.get("dct:conformsTo"), "@id"):
        return "the receipt lacks its schema version (dct:conformsTo)"
    record = receipt.get("dpv:hasRecordOfActivity")
    if not isinstance(record, dict) or "dpv:ConsentRecord" not in _types(record):
        return "the receipt lacks the consent record (dpv:hasRecordOfActivity)"
    missing = [name for name, present in _RECORD_FIELDS if not present(record)]
    if not missing:
        process, event = record["dpv:hasProcess"], record["dpv:hasConsentStatus"]
        missing += [name for name, present in _PROCESS_FIELDS if not present(process)]
        missing += [name for name, present in _EVENT_FIELDS if not present(event)]
        missing += _party_problems(record)
    if missing:
        return f"the consent record lacks: {', '.join(missing)}"
    return None


def _party_problems(record: Mapping[str, Any]) -> list[str]:
    """27560's party fields: name, identifier, role and contact for every party but the subject."""
    found = []
    for index, party in enumerate(_listed(record, "dpv:hasEntity")):
        if "dpv:DataSubject" in _types(party):
            continue
        for name, present in (
            ("name", _text(party, "dpv:hasName")),
            ("identifier", _text(party, "dpv:hasIdentifier")),
            ("role", bool(_types(party) & _ROLES)),
            ("contact", isinstance(party.get("schema:contactPoint"), dict)),
        ):
            if not present:
                found.append(f"party {index + 1} {name}")
    return found
