"""The JSON-LD notice round-trips: it expands to the triples it means, in DPV as released.

Each notice is expanded to RDF with pyld, an independent JSON-LD processor, and read with
rdflib, so a key without a context mapping (which expansion drops), a property DPV does not
define, a retired term or an untyped duration shows up here as a missing or unknown triple.
Remote contexts are refused: the notice's context is inline, and tests use no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld
from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef

from goodthings.core.manifest import RELEASE, Manifest, load_manifest_text
from goodthings.deployment.directory import EXAMPLES
from goodthings.transparency.notices import Scope, ScopeKind, build_notice, to_jsonld
from goodthings.transparency.notices.jsonld import CONTEXT
from goodthings.transparency.notices.model import every_scope

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"
DPV = Namespace("https://w3id.org/dpv#")
PD = Namespace("https://w3id.org/dpv/pd#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
DCT = Namespace("http://purl.org/dc/terms/")
GOODTHINGS = Namespace("urn:goodthings:")
OURS = (str(DPV), str(PD), str(EU_GDPR))


def _example(name: str) -> Manifest:
    text = (EXAMPLES_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    return load_manifest_text(text, f"{name}.yaml").manifest


def _no_remote_context(url: str, options: object = None) -> object:
    raise AssertionError(f"the notice asked for a remote context: {url}")


def _graph(document: dict[str, Any]) -> Graph:
    # A round trip through JSON text first, as a client receives it.
    received = json.loads(json.dumps(document))
    triples = jsonld.to_rdf(
        received, {"format": "application/n-quads", "documentLoader": _no_remote_context}
    )
    return Graph().parse(data=triples, format="nt")


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "@context":
                continue
            if not key.startswith("@"):
                yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _expanded(key: str) -> str:
    prefix, _, local = key.partition(":")
    return CONTEXT[prefix] + local


NOTICES = [
    pytest.param(example, scope, id=f"{example}:{scope.path}")
    for example in EXAMPLES
    for scope in every_scope(_example(example))[:6]
]


@pytest.mark.parametrize(("example", "scope"), NOTICES)
def test_no_key_vanishes_when_the_notice_is_expanded(example: str, scope: Scope) -> None:
    document = to_jsonld(build_notice(_example(example), scope))
    predicates = {str(p) for p in _graph(document).predicates()} - {str(RDF.type)}
    assert predicates == {_expanded(key) for key in _keys(document)}


@pytest.mark.parametrize(("example", "scope"), NOTICES)
def test_every_dpv_iri_is_a_term_of_the_release(example: str, scope: Scope) -> None:
    graph = _graph(to_jsonld(build_notice(_example(example), scope)))
    used = {
        str(node)
        for triple in graph
        for node in triple
        if isinstance(node, URIRef) and str(node).startswith(OURS)
    }
    assert used
    assert sorted(iri for iri in used if not RELEASE.defines(iri)) == []


def test_the_notice_is_a_dpv_process_not_the_retired_personal_data_handling() -> None:
    graph = _graph(to_jsonld(build_notice(_example("smart-home"))))
    [notice] = graph.subjects(DPV.hasProcess, None, unique=True)
    assert (notice, RDF.type, DPV.Process) in graph
    assert not list(graph.subjects(RDF.type, DPV.PersonalDataHandling))


def test_non_personal_data_is_dpv_has_data_non_personal_data() -> None:
    graph = _graph(to_jsonld(build_notice(_example("city-street"))))
    assert list(graph.subjects(DPV.hasData, DPV.NonPersonalData))
    assert not list(graph.triples((None, DPV.hasNonPersonalData, None)))


def test_retention_is_a_temporal_duration_typed_xsd_duration() -> None:
    scope = Scope(ScopeKind.stream, "pulse-band-2/heart_rate")
    graph = _graph(to_jsonld(build_notice(_example("smart-home"), scope)))
    [duration] = graph.objects(None, DPV.hasDuration)
    assert (duration, RDF.type, DPV.TemporalDuration) in graph
    assert graph.value(duration, RDF.value) == Literal("P30D", datatype=XSD.duration)


def test_the_scope_survives_expansion() -> None:
    graph = _graph(
        to_jsonld(build_notice(_example("smart-home"), Scope(ScopeKind.place, "flat-4")))
    )
    [scope] = graph.objects(None, GOODTHINGS.scope)
    assert graph.value(scope, GOODTHINGS.scopeKind) == Literal("place")
    assert graph.value(scope, DCT.identifier) == Literal("flat-4")


def test_a_stream_notice_means_its_triples() -> None:
    """Heart rate: collected and stored, for personalisation, on explicit consent under Art. 9."""
    scope = Scope(ScopeKind.stream, "pulse-band-2/heart_rate")
    graph = _graph(to_jsonld(build_notice(_example("smart-home"), scope)))
    [process] = graph.subjects(DPV.hasPurpose, DPV.ServicePersonalisation)
    assert isinstance(process, BNode)
    expected = {
        (RDF.type, DPV.Process),
        (DPV.hasPersonalData, PD.PhysicalHealth),
        (DPV.hasLegalBasis, DPV.ExplicitlyExpressedConsent),
        (DPV.hasLegalBasis, EU_GDPR["A9-2-a"]),
        (DPV.hasProcessing, DPV.Collect),
        (DPV.hasProcessing, DPV.Store),
        (DPV.hasProcessing, DPV.Profiling),
        (DCT.identifier, Literal("pulse-band-2/heart_rate#ServicePersonalisation")),
    }
    assert expected <= set(graph.predicate_objects(process))
    controller = graph.value(process, DPV.hasDataController)
    assert (controller, RDF.type, DPV.DataController) in graph
    [storage] = graph.objects(process, DPV.hasStorageCondition)
    assert (storage, RDF.type, DPV.StorageDuration) in graph
