"""Regenerate src/goodthings/core/manifest/dpv_released.json from a DPV release.

The manifest accepts only DPV terms, and its notices use their IRIs, so the list of terms that
exist must come from the released vocabulary itself, not from memory. This script reads the
release's Turtle files (DPV core, the personal data extension and the GDPR extension) and writes
every term they define, the personal data categories they mark as special categories (GDPR
Art. 9), and the Art. 9(2) conditions. Terms DPV marks "sunset" (about to be retired, such as
dpv:PersonalDataHandling) are listed apart, so nothing new is built on them.

Usage, from a checkout of https://github.com/w3c/dpv (or a download of its release folder):

    git -C dpv checkout dpv-2.3
    python scripts/refresh_dpv_terms.py dpv/2.3 --release 2.3 --source "w3c/dpv tag dpv-2.3"

It needs rdflib (in the dev extras) and no network.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rdflib import OWL, RDF, RDFS, Graph, Literal, Namespace, URIRef

DPV = Namespace("https://w3id.org/dpv#")
PD = Namespace("https://w3id.org/dpv/pd#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SW = Namespace("http://www.w3.org/2003/06/sw-vocab-status/ns#")

FILES = {
    str(DPV): "dpv/dpv.ttl",
    str(PD): "pd/pd.ttl",
    str(EU_GDPR): "legal/eu/gdpr/eu-gdpr.ttl",
}
"""Each namespace we use and the release file that defines it."""

_KINDS = (RDFS.Class, RDF.Property, SKOS.Concept, OWL.Class, OWL.ObjectProperty)
_ART9_SCHEME = EU_GDPR["legal-basis-special-classes"]


def released_terms(graph: Graph) -> dict[str, Any]:
    """The terms `graph` defines in our namespaces, its special categories and Art. 9 conditions."""
    terms: dict[str, list[str]] = {namespace: [] for namespace in FILES}
    sunset: list[str] = []
    for subject in _defined(graph):
        namespace = next(ns for ns in FILES if subject.startswith(ns))
        if _status(graph, subject) == "sunset":
            sunset.append(str(subject))
        else:
            terms[namespace].append(subject.removeprefix(namespace))
    special = {
        str(subject)
        for subject in graph.subjects(RDF.type, DPV.SpecialCategoryPersonalData)
        if isinstance(subject, URIRef)
    }
    conditions = {
        subject.removeprefix(str(EU_GDPR))
        for subject in graph.subjects(SKOS.inScheme, _ART9_SCHEME)
        if isinstance(subject, URIRef) and subject.startswith(str(EU_GDPR))
    }
    return {
        "terms": {namespace: sorted(names) for namespace, names in terms.items()},
        "special_categories": sorted(special),
        "art9_conditions": sorted(conditions),
        "sunset": sorted(sunset),
    }


def _defined(graph: Graph) -> Iterable[URIRef]:
    found: set[URIRef] = set()
    for kind in _KINDS:
        for subject in graph.subjects(RDF.type, kind):
            if isinstance(subject, URIRef) and any(subject.startswith(ns) for ns in FILES):
                name = subject.removeprefix(next(ns for ns in FILES if subject.startswith(ns)))
                if name:  # the namespace's own IRI describes the vocabulary, not a term
                    found.add(subject)
    return sorted(found)


def _status(graph: Graph, subject: URIRef) -> str | None:
    value = graph.value(subject, SW.term_status)
    return str(value) if isinstance(value, Literal) else None


def load(release_dir: Path) -> Graph:
    """One graph of the release's files that define our namespaces."""
    graph = Graph()
    for relative in FILES.values():
        graph.parse(release_dir / relative, format="turtle")
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("release_dir", type=Path, help="the release folder, e.g. dpv/2.3")
    parser.add_argument("--release", required=True, help="the DPV version, e.g. 2.3")
    parser.add_argument("--source", required=True, help="where the files came from (tag, commit)")
    default_out = (
        Path(__file__).resolve().parent.parent / "src/goodthings/core/manifest/dpv_released.json"
    )
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args()
    document = {
        "release": args.release,
        "source": args.source,
        "files": sorted(FILES.values()),
        "generated_by": "scripts/refresh_dpv_terms.py",
        **released_terms(load(args.release_dir)),
    }
    args.out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    counts = ", ".join(f"{len(names)} in {ns}" for ns, names in document["terms"].items())
    print(f"wrote {args.out}: {counts}")


if __name__ == "__main__":
    main()
