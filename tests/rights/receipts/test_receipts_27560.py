"""Consent receipts are ISO/IEC TS 27560 records in DPV, as DPV's own guide maps the fields.

The receipt is expanded to RDF by pyld (an independent JSON-LD processor) and read by rdflib,
as the notices' tests do: a key with no context mapping, an IRI DPV does not define, or a
mandatory field the guide lists and the receipt lacks shows up as a missing triple. Receipts
issued before (version 1) still verify; forged and altered ones do not, and `--home` finds a
receipt the deployment's ledger or records contradict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyld import jsonld
from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from sqlalchemy import update

from cli_helpers import run
from goodthings.core.manifest import RELEASE
from goodthings.core.store import tables as t
from goodthings.rights.consent import records as consent
from goodthings.rights.receipts import ReceiptError, sign, summary, verify
from goodthings.rights.receipts.consent import document
from goodthings.rights.receipts.record import CONTEXT, RECEIPT_PROFILE, RECORD_PROFILE
from goodthings.runtime.hub import Hub

DPV = Namespace("https://w3id.org/dpv#")
PD = Namespace("https://w3id.org/dpv/pd#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
DCT = Namespace("http://purl.org/dc/terms/")
SCHEMA = Namespace("https://schema.org/")
OURS = (str(DPV), str(PD), str(EU_GDPR))

SHARE = consent.ConsentChange(
    "alex",
    "power",
    "ResearchAndDevelopment",
    "uni-energy-study",
    method="portal",
    manage_at="https://hub.maplecourt.example/portal",
)
EXPLICIT = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation", method="cli")


def _issue(hub: Hub, change: consent.ConsentChange, *, withdraw: bool = False) -> str:
    record = (consent.withdraw if withdraw else consent.give)(hub.engine, hub.signer, change)
    assert record.receipt_id is not None
    with hub.engine.connect() as connection:
        text = document(connection, change.subject_id, record.receipt_id)
    assert text is not None
    return text


def _no_remote_context(url: str, options: object = None) -> object:
    raise AssertionError(f"the receipt asked for a remote context: {url}")


def _graph(receipt: dict[str, Any]) -> Graph:
    triples = jsonld.to_rdf(
        receipt, {"format": "application/n-quads", "documentLoader": _no_remote_context}
    )
    return Graph().parse(data=triples, format="nt")


def _keys(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key != "@context":
                found |= ({key} if not key.startswith("@") else set()) | _keys(item)
    elif isinstance(value, list):
        for item in value:
            found |= _keys(item)
    return found


def _expanded(key: str) -> str:
    if ":" not in key:
        key = CONTEXT[key]
    prefix, _, local = key.partition(":")
    return CONTEXT[prefix] + local if prefix in CONTEXT else key


@pytest.fixture
def receipt(smart_home: Hub) -> dict[str, Any]:
    content: dict[str, Any] = json.loads(_issue(smart_home, SHARE))["receipt"]
    return content


def test_no_key_of_the_receipt_vanishes_on_expansion(receipt: dict[str, Any]) -> None:
    predicates = {str(p) for p in _graph(receipt).predicates()} - {str(RDF.type)}
    assert predicates == {_expanded(key) for key in _keys(receipt)}


def test_every_dpv_iri_of_a_receipt_is_a_term_of_the_release(smart_home: Hub) -> None:
    used: set[str] = set()
    for text in (_issue(smart_home, SHARE), _issue(smart_home, EXPLICIT, withdraw=True)):
        graph = _graph(json.loads(text)["receipt"])
        used |= {
            str(node)
            for triple in graph
            for node in triple
            if isinstance(node, URIRef) and str(node).startswith(OURS)
        }
    assert len(used) > 30
    assert sorted(iri for iri in used if not RELEASE.defines(iri)) == []


def test_the_receipt_has_its_own_id_apart_from_the_record(receipt: dict[str, Any]) -> None:
    graph = _graph(receipt)
    [made] = graph.subjects(RDF.type, DPV.ConsentReceipt)
    [record] = graph.objects(made, DPV.hasRecordOfActivity)
    assert (record, RDF.type, DPV.ConsentRecord) in graph
    assert graph.value(made, DCT.conformsTo) == URIRef(RECEIPT_PROFILE)
    assert graph.value(record, DCT.conformsTo) == URIRef(RECORD_PROFILE)
    receipt_id, record_id = graph.value(made, DCT.identifier), graph.value(record, DCT.identifier)
    assert receipt_id is not None and record_id is not None and receipt_id != record_id
    assert str(record_id).startswith("maple-court-flat-4/consent/")
    assert graph.value(made, DCT.created) is not None


def test_the_record_holds_every_mandatory_27560_field(receipt: dict[str, Any]) -> None:
    graph = _graph(receipt)
    [record] = graph.subjects(RDF.type, DPV.ConsentRecord)
    subject = graph.value(record, DPV.hasDataSubject)
    assert graph.value(subject, DCT.identifier) == Literal("alex")
    notice = graph.value(record, DPV.hasNotice)
    assert (notice, RDF.type, DPV.ConsentNotice) in graph
    assert graph.value(notice, DCT.language) == Literal("en")
    assert len(str(graph.value(notice, DCT.identifier))) == 64
    jurisdiction = graph.value(record, DPV.hasJurisdiction)
    assert (jurisdiction, RDF.type, DPV.Country) in graph
    assert graph.value(jurisdiction, DCT.identifier) == Literal("GB")
    control = graph.value(record, DPV.hasConsentControl)
    assert (control, RDF.type, DPV.WithdrawConsent) in graph
    portal = URIRef("https://hub.maplecourt.example/portal")
    assert graph.value(control, DPV.isExercisedAt) == portal
    assert len(list(graph.objects(record, DPV.hasRight))) == 3
    process = graph.value(record, DPV.hasProcess)
    assert graph.value(process, DPV.hasPurpose) == DPV.ResearchAndDevelopment
    assert graph.value(process, DPV.hasPersonalData) == PD.Household
    assert graph.value(process, DPV.hasLegalBasis) == DPV.Consent
    kinds = {graph.value(c, RDF.type) for c in graph.objects(process, DPV.hasStorageCondition)}
    assert kinds == {DPV.StorageLocation, DPV.StorageDuration}


def test_parties_have_id_type_role_contact_and_address(receipt: dict[str, Any]) -> None:
    graph = _graph(receipt)
    [record] = graph.subjects(RDF.type, DPV.ConsentRecord)
    process = graph.value(record, DPV.hasProcess)
    controller = graph.value(record, DPV.hasDataController)
    [recipient] = graph.objects(process, DPV.hasRecipient)
    assert (controller, RDF.type, DPV.DataController) in graph
    assert (controller, RDF.type, DPV.Organisation) in graph
    assert graph.value(controller, DPV.hasName) == Literal("Maple Court Housing Co-operative Ltd")
    assert graph.value(controller, DPV.hasIdentifier) == Literal(str(controller))
    address = graph.value(controller, DPV.hasAddress)
    assert "Manchester" in str(graph.value(address, SCHEMA.streetAddress))
    point = graph.value(controller, SCHEMA.contactPoint)
    assert graph.value(point, SCHEMA.email) == Literal("hello@maplecourt.example")
    assert (recipient, RDF.type, DPV.ThirdParty) in graph
    assert "University of Manchester" in str(graph.value(recipient, DPV.hasName))


def test_the_event_says_given_how_when_by_whom_and_for_how_long(
    receipt: dict[str, Any],
) -> None:
    graph = _graph(receipt)
    [event] = graph.subjects(DPV.isIndicatedAtTime, None)
    assert {DPV.ConsentGiven, DPV.ExpressedConsent} <= set(graph.objects(event, RDF.type))
    assert graph.value(event, DPV.isIndicatedAtTime).datatype == XSD.dateTime  # type: ignore[union-attr]
    [record] = graph.subjects(RDF.type, DPV.ConsentRecord)
    subject = graph.value(record, DPV.hasDataSubject)
    assert graph.value(event, DPV.isIndicatedBy) == subject
    assert "portal" in str(graph.value(event, DPV.hasIndicationMethod))
    duration = graph.value(event, DPV.hasDuration)
    assert (duration, RDF.type, DPV.UntilEventDuration) in graph


def test_special_category_consent_is_explicit_and_names_art_9(smart_home: Hub) -> None:
    graph = _graph(json.loads(_issue(smart_home, EXPLICIT))["receipt"])
    [event] = graph.subjects(DPV.isIndicatedAtTime, None)
    assert (event, RDF.type, DPV.ExplicitlyExpressedConsent) in graph
    [process] = graph.subjects(DPV.hasPurpose, DPV.ServicePersonalisation)
    assert set(graph.objects(process, DPV.hasLegalBasis)) == {
        DPV.ExplicitlyExpressedConsent,
        EU_GDPR["A9-2-a"],
    }
    # No portal address given: the controller's contact is how to withdraw.
    [record] = graph.subjects(RDF.type, DPV.ConsentRecord)
    control = graph.value(record, DPV.hasConsentControl)
    assert graph.value(control, DPV.isExercisedAt) == URIRef("mailto:hello@maplecourt.example")


def test_a_withdrawal_receipt_says_withdrawn(smart_home: Hub) -> None:
    _issue(smart_home, EXPLICIT)
    text = _issue(smart_home, EXPLICIT, withdraw=True)
    facts = summary(verify(text, smart_home.signer.public_key()).receipt)
    assert (facts.state, facts.stream, facts.purposes) == (
        "withdrawn",
        "pulse-band-2/heart_rate",
        ("ServicePersonalisation",),
    )


# A version 1 consent receipt exactly as the hub issued them before, signed with a fixed key.
_V1_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_V1 = {
    "kind": "consent",
    "schema": "goodthings consent receipt v1 (after ISO/IEC TS 27560)",
    "record_id": "5a1c2b7e-8f0d-4c1e-9a55-0c3f1f2d7b10",
    "consent_id": 3,
    "subject": {"id": "alex"},
    "controller": {
        "name": "Maple Court Housing Co-operative Ltd",
        "contact": "hello@maplecourt.example",
        "data_protection_contact": {"name": "Priya Shah", "email": "dpo@maplecourt.example"},
    },
    "stream": "wattwise-m2/power",
    "purposes": [{"purpose": "ResearchAndDevelopment", "how": "Hourly totals for a study."}],
    "data_categories": ["Household"],
    "recipients": [{"id": "uni-energy-study", "name": "University", "terms": "Hourly only."}],
    "legal_basis": "Consent",
    "level": "exact",
    "retention": "P1Y",
    "notice": {"version_hash": "ab" * 32},
    "time": "2026-05-01T10:00:00+00:00",
    "method": "portal",
    "state": "given",
    "ledger": {"seq": 41, "hash": "cd" * 32},
}


def test_a_version_1_receipt_issued_before_still_verifies() -> None:
    checked = verify(sign(_V1, _V1_KEY), _V1_KEY.public_key())
    facts = summary(checked.receipt)
    assert (facts.state, facts.stream, facts.subject_id) == ("given", "wattwise-m2/power", "alex")
    broken = {**_V1}
    del broken["legal_basis"]
    with pytest.raises(ReceiptError, match="lacks: legal_basis"):
        verify(sign(broken, _V1_KEY))


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda r: r.pop("dct:identifier"), r"receipt id \(dct:identifier\)"),
        (lambda r: r["dpv:hasRecordOfActivity"].pop("dpv:hasJurisdiction"), "jurisdiction"),
        (
            lambda r: r["dpv:hasRecordOfActivity"]["dpv:hasNotice"].pop("dct:language"),
            "notice language",
        ),
        (
            lambda r: r["dpv:hasRecordOfActivity"]["dpv:hasConsentStatus"].pop("dpv:hasDuration"),
            r"validity \(dpv:hasDuration\)",
        ),
        (
            lambda r: r["dpv:hasRecordOfActivity"]["dpv:hasEntity"][0].pop("dpv:hasName"),
            "party 1 name",
        ),
        (
            lambda r: r["dpv:hasRecordOfActivity"]["dpv:hasProcess"].update(
                {"dpv:hasStorageCondition": []}
            ),
            "storage location",
        ),
        (lambda r: r.update({"version": True}), "unknown receipt version"),
    ],
)
def test_a_receipt_lacking_a_mandatory_field_is_refused_even_when_signed(
    smart_home: Hub, receipt: dict[str, Any], mangle: Any, message: str
) -> None:
    mangle(receipt)
    with pytest.raises(ReceiptError, match=message):
        verify(sign(receipt, smart_home.signer), smart_home.signer.public_key())


def test_receipt_verify_against_the_deployment(
    smart_home: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _issue(smart_home, SHARE)
    kept = tmp_path / "receipt.json"
    kept.write_text(text)
    home = str(smart_home.home.root)
    ran = run(capsys, "receipt", "verify", str(kept), "--home", home)
    assert ran.code == 0, ran.err
    assert "the deployment's ledger and records agree" in ran.out

    # A receipt the hub never issued, signed with another key, claiming this deployment.
    forged = tmp_path / "forged.json"
    forged.write_text(sign(json.loads(text)["receipt"], Ed25519PrivateKey.generate()))
    ran = run(capsys, "receipt", "verify", str(forged), "--home", home)
    assert ran.code == 1 and "signature does not match" in ran.err

    # The operator rewrites the ledger entry the person's receipt saw.
    seq = json.loads(text)["receipt"]["ledger"]["seq"]
    with smart_home.engine.begin() as connection:
        connection.execute(
            update(t.ledger_entries).where(t.ledger_entries.c.seq == seq).values(hash="0" * 64)
        )
    ran = run(capsys, "receipt", "verify", str(kept), "--home", home)
    assert ran.code == 1
    assert f"ledger entry {seq} has another hash than the receipt saw" in ran.err


def test_the_deployment_must_hold_the_record_the_receipt_refers_to(
    smart_home: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = json.loads(_issue(smart_home, SHARE))["receipt"]
    record = content["dpv:hasRecordOfActivity"]
    record["dct:identifier"] = "maple-court-flat-4/consent/999"
    signed = tmp_path / "other-record.json"
    signed.write_text(sign(content, smart_home.signer))
    ran = run(capsys, "receipt", "verify", str(signed), "--home", str(smart_home.home.root))
    assert ran.code == 1 and "holds no consent record 999" in ran.err
    record["dct:identifier"] = "other-deployment/consent/1"
    signed.write_text(sign(content, smart_home.signer))
    ran = run(capsys, "receipt", "verify", str(signed), "--home", str(smart_home.home.root))
    assert ran.code == 1 and "of deployment 'other-deployment'" in ran.err
