"""Assessment: the controls catalogue (good-practice principles, ETSI EN 303 645, UK PSTI, NIST
IR 8259A, GDPR) as data, and checks that decide each automatic control from the live store rather
than from configuration, with evidence anyone may read (docs/assessment.md).

It reads security, rights and the core store, so it sits above those services, beside
deployment.
"""

from goodthings.assessment.assess import Assessment, ControlResult, assess
from goodthings.assessment.bundle import BundleError, export_bundle, verify_bundle
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
from goodthings.assessment.record import (
    LabelStanding,
    Recorded,
    current_label,
    label_standing,
    latest_signed,
    record_assessment,
)
from goodthings.assessment.render import to_html, to_pdf
from goodthings.assessment.report import REPORT_FORMAT, build_report, report_problems, sign_report

__all__ = [
    "CHECKS",
    "REPORT_FORMAT",
    "Assessment",
    "BundleError",
    "Catalogue",
    "CatalogueError",
    "Check",
    "Collection",
    "Context",
    "Control",
    "ControlResult",
    "Evidence",
    "Finding",
    "LabelStanding",
    "Recorded",
    "Standard",
    "Verdict",
    "assess",
    "build_report",
    "current_label",
    "export_bundle",
    "label_standing",
    "latest_signed",
    "load_catalogue",
    "load_catalogue_text",
    "record_assessment",
    "report_problems",
    "sign_report",
    "to_html",
    "to_pdf",
    "verify_bundle",
]
