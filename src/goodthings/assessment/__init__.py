"""Assessment: the controls catalogue (good-practice principles, ETSI EN 303 645, UK PSTI, NIST
IR 8259A, GDPR) as data, and checks that decide each automatic control from the live store rather
than from configuration, with evidence anyone may read (docs/assessment.md).

It reads security, rights and the core store, so it sits above those services, beside
deployment.
"""

from goodthings.assessment.assess import Assessment, ControlResult, assess
from goodthings.assessment.catalogue import (
    Catalogue,
    CatalogueError,
    Collection,
    Control,
    Standard,
    load_catalogue,
    load_catalogue_text,
)
from goodthings.assessment.checks import CHECKS
from goodthings.assessment.evidence import Check, Context, Evidence, Finding, Verdict

__all__ = [
    "CHECKS",
    "Assessment",
    "Catalogue",
    "CatalogueError",
    "Check",
    "Collection",
    "Context",
    "Control",
    "ControlResult",
    "Evidence",
    "Finding",
    "Standard",
    "Verdict",
    "assess",
    "load_catalogue",
    "load_catalogue_text",
]
