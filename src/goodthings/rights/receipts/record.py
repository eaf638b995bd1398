"""The consent receipt (version 2) as JSON-LD: a `dpv:ConsentReceipt` holding one
`dpv:ConsentRecord`, in the shape DPV's guide "Consent Records and Receipts as per ISO/IEC TS
27560:2023 using DPV" (Final Community Group Report, 15 February 2026) gives it: profile
`dpv-27560:receipt` holding a `dpv-27560:record`, the two IRIs DPV's published schema
(`schema/dpv-27560.ttl`) defines for them.

The receipt has its own id (`dct:identifier`, a UUID) apart from the record's (the consent
change's row in this deployment); the record carries every field the guide marks mandatory:
schema version, record id, data subject, notice and its language, one `dpv:Process` with
purpose, personal data, storage conditions (location and duration), controller, legal basis and
recipients; how to withdraw (`dpv:hasConsentControl`), jurisdiction, rights, the parties (name,
identifier, role, contact, address) and the event (status, consent type, time, duration, who
expressed it, how). Every DPV IRI is a term of the release the manifest follows (tests check).

Three keys of our own, mapped in the context so they survive expansion, keep the receipt usable
by `goodthings ledger verify --receipts`: `version`, `kind` and `ledger` (`seq` and `hash`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from goodthings.core.manifest import (
    ART9_CONDITIONS,
    EXPLICIT_CONSENT,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
)

VERSION = 2
RECEIPT_PROFILE = "https://w3id.org/dpv/schema/dpv-27560#receipt"
RECORD_PROFILE = "https://w3id.org/dpv/schema/dpv-27560#record"

CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "dct": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "goodthings": "urn:goodthings:",
    "version": "goodthings:receiptVersion",
    "kind": "goodthings:receiptKind",
    "ledger": "goodthings:ledgerPosition",
    "seq": "goodthings:seq",
    "hash": "goodthings:hash",
}

# The recipient kinds of the manifest and the DPV entity role each has.
_ROLES = {
    "processor": "dpv:DataProcessor",
    "third-party": "dpv:ThirdParty",
    "public-authority": "dpv:Authority",
    "researcher": "dpv:ThirdParty",
}

_METHODS = {
    "portal": "switched on or off by the person in the hub's portal",
    "api": "recorded through the hub's API by the operator's system",
    "cli": "recorded by the operator on the person's behalf",
}


@dataclass(frozen=True)
class Party:
    """An organisation the receipt names: the controller or a recipient."""

    key: str
    """Its id in the manifest (`controller` for the operator)."""
    name: str
    role: str
    contact: Mapping[str, Any]
    """The manifest's contact: email, phone, address, url."""


@dataclass(frozen=True)
class ConsentEvent:
    """Everything one consent receipt says, gathered from the change and the manifest."""

    receipt_id: str
    deployment_id: str
    consent_id: int
    subject_id: str
    language: str
    stream: str
    purpose: str
    how: str | None
    legal_basis: str | None
    special_category_condition: str | None
    data_category: str | None
    retention: str | None
    state: str
    level: str
    method: str
    time: str
    notice_hash: str | None
    country: str | None
    controller: Party
    recipients: Sequence[Party]
    manage_at: str | None
    """Where the person changes or withdraws the consent (the portal), when known."""
    ledger: Mapping[str, object]
    given_by: str | None = None
    """The person's representative who made the change on their behalf ("name
    (relationship)"), or None when the person did (or the operator, on their instruction)."""
    given_by_contact: str | None = None
    """How to reach that representative (an email, a phone number or an address)."""


def _iri(deployment: str, *parts: str) -> str:
    return "urn:goodthings:" + ":".join((deployment, *parts))


def _reach(contact: Mapping[str, Any]) -> str | None:
    """A URI to reach a party at, for the controls and rights: their web page or email."""
    if contact.get("url"):
        return str(contact["url"])
    if contact.get("email"):
        return f"mailto:{contact['email']}"
    return None


def _entity(event: ConsentEvent, party: Party) -> dict[str, Any]:
    iri = _iri(event.deployment_id, party.key)
    contact = {
        "@type": "schema:ContactPoint",
        **{
            key: party.contact[field]
            for key, field in (
                ("schema:email", "email"),
                ("schema:telephone", "phone"),
                ("schema:url", "url"),
            )
            if party.contact.get(field)
        },
    }
    entity: dict[str, Any] = {
        "@id": iri,
        "@type": ["dpv:Organisation", party.role],
        "dpv:hasName": party.name,
        "dpv:hasIdentifier": iri,
        "schema:contactPoint": contact,
    }
    if party.contact.get("address"):
        entity["dpv:hasAddress"] = {
            "@type": "schema:PostalAddress",
            "schema:streetAddress": party.contact["address"],
        }
    return entity


def _contact_of(contact: str | None) -> dict[str, Any]:
    """A representative's contact, as the manifest gives it in one string."""
    point: dict[str, Any] = {"@type": "schema:ContactPoint"}
    if contact and "@" in contact:
        point["schema:email"] = contact
    elif contact:
        point["schema:description"] = contact
    return point


def _location(country: str | None) -> dict[str, Any]:
    if country is None:
        return {"@type": "dpv:Location", "dct:description": "not declared by the operator"}
    return {"@type": "dpv:Country", "dct:identifier": country}


def _consent_type(event: ConsentEvent) -> str:
    """DPV's consent type for the event type of 27560: how the consent was given."""
    explicit = event.legal_basis == EXPLICIT_CONSENT or event.special_category_condition == "A9-2-a"
    return "dpv:ExplicitlyExpressedConsent" if explicit else "dpv:ExpressedConsent"


def _process(event: ConsentEvent, controller: str) -> dict[str, Any]:
    bases = [LEGAL_BASES.get(event.legal_basis).iri] if event.legal_basis else []
    if event.special_category_condition:
        bases.append(ART9_CONDITIONS.get(event.special_category_condition).iri)
    recipients = [_iri(event.deployment_id, party.key) for party in event.recipients]
    storage: list[dict[str, Any]] = [
        {
            "@type": "dpv:StorageLocation",
            "dct:description": "the hub's database, run by the controller",
            "dpv:hasLocation": _location(event.country),
        },
        {
            "@type": "dpv:StorageDuration",
            "dpv:hasDuration": (
                {
                    "@type": "dpv:TemporalDuration",
                    "rdf:value": {"@value": event.retention, "@type": "xsd:duration"},
                }
                if event.retention
                else {"@type": "dpv:UntilEventDuration", "rdf:value": "until erased on request"}
            ),
        },
    ]
    process: dict[str, Any] = {
        "@type": "dpv:Process",
        "dct:identifier": f"{event.stream}#{event.purpose}",
        "schema:name": event.stream,
        "dpv:hasPurpose": {"@id": PURPOSES.get(event.purpose).iri},
        "dpv:hasDataController": {"@id": controller},
        "dpv:hasRecipient": [{"@id": iri} for iri in recipients or [controller]],
        "dpv:hasLegalBasis": [{"@id": iri} for iri in bases],
        "dpv:hasStorageCondition": storage,
        "goodthings:level": event.level,
    }
    if event.how:
        process["dct:description"] = event.how
    category = (
        PERSONAL_DATA_CATEGORIES.get(event.data_category).iri
        if event.data_category
        else "https://w3id.org/dpv#PersonalData"
    )
    process["dpv:hasPersonalData"] = {"@id": category}
    return process


def build(event: ConsentEvent) -> dict[str, Any]:
    """The receipt's signed content."""
    controller = _iri(event.deployment_id, event.controller.key)
    subject = _iri(event.deployment_id, "subject", event.subject_id)
    record_id = f"{event.deployment_id}/consent/{event.consent_id}"
    reach = event.manage_at or _reach(event.controller.contact)
    status = "dpv:ConsentGiven" if event.state == "given" else "dpv:ConsentWithdrawn"
    duration = (
        {"@type": "dpv:UntilEventDuration", "rdf:value": "until the person withdraws it"}
        if event.state == "given"
        else {"@type": "dpv:UntilEventDuration", "rdf:value": "until the person gives it again"}
    )
    notice: dict[str, Any] = {"@type": "dpv:ConsentNotice", "dct:language": event.language}
    if event.notice_hash:
        notice["@id"] = f"urn:sha256:{event.notice_hash}"
        notice["dct:identifier"] = event.notice_hash
    # A representative's consent is indicated by them, not by the person: the status and the
    # parties say so (DPV's Representative, hasRepresentative / isRepresentativeFor), so
    # whoever reads the receipt knows whose decision it records.
    representative = (
        _iri(event.deployment_id, "subject", event.subject_id, "representative")
        if event.given_by
        else None
    )
    indicated_by = representative or subject
    method = _METHODS.get(event.method, event.method)
    if event.given_by:
        method = (
            f"given by the person's representative, {event.given_by}, on their behalf; {method}"
        )
    record: dict[str, Any] = {
        "@id": _iri(event.deployment_id, "consent", str(event.consent_id)),
        "@type": "dpv:ConsentRecord",
        "dct:identifier": record_id,
        "dct:conformsTo": {"@id": RECORD_PROFILE},
        "dct:language": event.language,
        "dpv:hasDataSubject": {
            "@id": subject,
            "@type": "dpv:DataSubject",
            "dct:identifier": event.subject_id,
            **({"dpv:hasRepresentative": {"@id": representative}} if representative else {}),
        },
        "dpv:hasDataController": {"@id": controller},
        "dpv:hasJurisdiction": _location(event.country),
        "dpv:hasNotice": notice,
        "dpv:hasProcess": _process(event, controller),
        "dpv:hasConsentControl": {
            "@type": ["dpv:ProvideConsent", "dpv:WithdrawConsent"],
            "dct:description": "Switch the purpose off in the portal, or ask the controller.",
            **({"dpv:isExercisedAt": {"@id": reach}} if reach else {}),
        },
        "dpv:hasRight": [
            {
                "@type": "dpv:DataSubjectRight",
                "dct:title": title,
                **({"dpv:isExercisedAt": {"@id": reach}} if reach else {}),
            }
            for title in (
                "Right to withdraw consent",
                "Right of access and to data portability",
                "Right to erasure",
            )
        ],
        "dpv:hasConsentStatus": {
            "@type": [status, _consent_type(event)],
            "dpv:isIndicatedBy": {"@id": indicated_by},
            "dpv:isIndicatedAtTime": {"@value": event.time, "@type": "xsd:dateTime"},
            "dpv:hasIndicationMethod": method,
            "dpv:hasDuration": duration,
        },
        "dpv:hasEntity": [
            _entity(event, event.controller),
            *(_entity(event, party) for party in event.recipients),
            {"@id": subject, "@type": "dpv:DataSubject", "dpv:hasIdentifier": event.subject_id},
            *(
                [
                    {
                        "@id": representative,
                        "@type": "dpv:Representative",
                        "dpv:hasName": event.given_by,
                        "dpv:hasIdentifier": representative,
                        "dpv:isRepresentativeFor": {"@id": subject},
                        "schema:contactPoint": _contact_of(event.given_by_contact),
                    }
                ]
                if representative
                else []
            ),
        ],
    }
    return {
        "@context": CONTEXT,
        "@id": f"urn:uuid:{event.receipt_id}",
        "@type": "dpv:ConsentReceipt",
        "version": VERSION,
        "kind": "consent",
        "dct:identifier": event.receipt_id,
        "dct:conformsTo": {"@id": RECEIPT_PROFILE},
        "dct:created": {"@value": event.time, "@type": "xsd:dateTime"},
        "dct:publisher": {"@id": controller},
        "dct:audience": {"@id": subject},
        "dpv:hasRecordOfActivity": record,
        "ledger": dict(event.ledger),
    }


def role_of(kind: str) -> str:
    """The DPV role of a recipient of the manifest's `kind`."""
    return _ROLES.get(kind, "dpv:ThirdParty")
