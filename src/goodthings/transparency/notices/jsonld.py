"""The machine-readable notice: JSON-LD in the W3C Data Privacy Vocabulary (DPV) as released.

The notice is a `dpv:Process` (DPV 2.2 retired `dpv:PersonalDataHandling` in its favour) made of
one `dpv:Process` per stream and purpose, with its purpose, data (`dpv:hasPersonalData` with the
category, or `dpv:hasData dpv:NonPersonalData`), legal basis and, for a special category, the
GDPR Art. 9 condition (both `dpv:hasLegalBasis`), controller, recipients, storage duration
(`dpv:TemporalDuration` whose `rdf:value` is an `xsd:duration`, as DPV's example E0050 writes
it) and, where declared, automated decision-making and profiling; one `dpv:Infer` process per
correlation the rule catalogue finds. Every key is a compact IRI of the context, so nothing is
lost when the document is expanded; every DPV IRI is a term of the release (tests check both).
"""

from __future__ import annotations

from typing import Any

from goodthings.core.manifest import (
    ART9_CONDITIONS,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    in_language,
)
from goodthings.transparency.notices.model import ContactEntry, Notice, StreamEntry

CONTEXT = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "dct": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "goodthings": "urn:goodthings:",
}


def _contact(entry: ContactEntry) -> dict[str, Any]:
    fields = {
        "schema:name": entry.name,
        "schema:jobTitle": entry.role,
        "schema:email": entry.email,
        "schema:telephone": entry.phone,
        "schema:address": entry.address,
        "schema:url": entry.url,
    }
    return {key: value for key, value in fields.items() if value}


def _processes(
    stream: StreamEntry, controller: dict[str, Any], language: str
) -> list[dict[str, Any]]:
    found = []
    for use in stream.purposes:
        process: dict[str, Any] = {
            "@type": "dpv:Process",
            "dct:identifier": f"{stream.ref}#{use.purpose}",
            "dct:description": in_language(use.how, language),
            "dpv:hasPurpose": {"@id": PURPOSES.get(use.purpose).iri},
            "dpv:hasDataController": controller,
            "dpv:hasProcessing": [{"@id": "dpv:Collect"}, {"@id": "dpv:Store"}],
            "schema:name": in_language(stream.description, language),
        }
        if stream.personal and stream.data_category:
            process["dpv:hasPersonalData"] = {
                "@id": PERSONAL_DATA_CATEGORIES.get(stream.data_category).iri
            }
        elif not stream.personal:
            process["dpv:hasData"] = {"@id": "dpv:NonPersonalData"}
        bases = [LEGAL_BASES.get(use.legal_basis).iri] if use.legal_basis else []
        if use.special_category_condition:
            bases.append(ART9_CONDITIONS.get(use.special_category_condition).iri)
        if bases:
            process["dpv:hasLegalBasis"] = [{"@id": iri} for iri in bases]
        if stream.retention:
            process["dpv:hasStorageCondition"] = {
                "@type": "dpv:StorageDuration",
                "dpv:hasDuration": {
                    "@type": "dpv:TemporalDuration",
                    "rdf:value": {"@value": stream.retention, "@type": "xsd:duration"},
                },
            }
        recipients = [
            {
                "@type": "dpv:Recipient",
                "schema:name": share.name,
                "dct:identifier": share.recipient,
                "dpv:hasPurpose": {"@id": PURPOSES.get(share.purpose).iri},
                "dct:description": in_language(share.terms, language),
            }
            for share in stream.recipients
            if share.purpose == use.purpose
        ]
        if recipients:
            process["dpv:hasRecipient"] = recipients
        if stream.automation is not None:
            processing = process["dpv:hasProcessing"]
            if stream.automation.automated_decisions:
                processing.append({"@id": "dpv:AutomatedDecisionMaking"})
            if stream.automation.profiling:
                processing.append({"@id": "dpv:Profiling"})
        found.append(process)
    return found


def _scope(notice: Notice) -> dict[str, Any]:
    scope = {"goodthings:scopeKind": notice.scope.kind.value}
    if notice.scope.id is not None:
        scope["dct:identifier"] = notice.scope.id
    return scope


def to_jsonld(notice: Notice, language: str = "en") -> dict[str, Any]:
    """The notice as a JSON-LD document; its `dct:identifier` is the notice's version hash."""
    controller = {
        "@type": "dpv:DataController",
        "schema:name": notice.controller,
        **_contact(notice.contact),
    }
    processes: list[dict[str, Any]] = []
    for stream in notice.streams:
        processes.extend(_processes(stream, controller, language))
    for inference in notice.inferences:
        processes.append(
            {
                "@type": "dpv:Process",
                "dct:identifier": f"inference/{inference.rule}",
                "dpv:hasProcessing": {"@id": "dpv:Infer"},
                "dct:description": inference.explanation,
                "schema:name": inference.reveals,
                "dct:source": list(inference.streams),
            }
        )
    return {
        "@context": CONTEXT,
        "@id": f"urn:sha256:{notice.hash}",
        "@type": "dpv:Process",
        "dct:identifier": notice.hash,
        "dct:title": in_language(notice.title, language),
        "dct:language": language,
        "dct:isPartOf": notice.deployment_id,
        "dct:description": in_language(notice.description, language),
        "goodthings:scope": _scope(notice),
        "dpv:hasDataController": controller,
        "dpv:hasDataProtectionOfficer": _contact(notice.data_protection_contact),
        "dpv:hasResponsibleEntity": _contact(notice.accountable_person),
        "dpv:hasProcess": processes,
    }
