"""Run the catalogue against a live deployment: each automatic check once, a result per control."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from goodthings.assessment.catalogue import Catalogue, Collection, Control, Standard
from goodthings.assessment.checks import CHECKS
from goodthings.assessment.evidence import Context, Evidence, Finding, Verdict


@dataclass(frozen=True)
class ControlResult:
    control: Control
    finding: Finding


@dataclass(frozen=True)
class Assessment:
    catalogue_version: int
    measured_at: str
    results: tuple[ControlResult, ...]

    @property
    def failed(self) -> tuple[ControlResult, ...]:
        """The applicable automatic controls that failed: what makes `assess` exit non-zero."""
        return tuple(r for r in self.results if r.finding.verdict is Verdict.failed)


def assess(catalogue: Catalogue, context: Context, standard: Standard | None = None) -> Assessment:
    """Every control of `standard` (all when None) with its verdict; a check shared by several
    controls runs once, so they all rest on the same measurement."""
    measured_at = context.now.isoformat(timespec="seconds")
    findings: dict[str, Finding] = {}
    results = []
    for control in catalogue.of(standard):
        if control.collection is Collection.automatic and control.check is not None:
            if control.check not in findings:
                finding = CHECKS[control.check](context)
                findings[control.check] = replace(finding, measured_at=measured_at)
            results.append(ControlResult(control, findings[control.check]))
        elif control.collection is Collection.probe and context.probe is not None:
            results.append(ControlResult(control, probed(context.probe, measured_at)))
        else:
            results.append(ControlResult(control, _not_assessed(control)))
    return Assessment(catalogue.version, measured_at, tuple(results))


PROBE_FRESH_DAYS = 90
"""A probe older than this says little about the network as it is now."""


def probed(report: Mapping[str, Any], measured_at: str) -> Finding:
    """A probe control's verdict from the auditor's newest probe report."""
    findings = report.get("findings", [])
    evidence: Evidence = {
        "probe_finished_at": str(report.get("finished_at")),
        "authorised_by": str(report.get("authorised_by")),
        "targets": tuple(report.get("targets", ())),
        "hosts_probed": int(report.get("hosts_probed", 0)),
        "attempts": int(report.get("attempts", 0)),
        "findings": tuple(f"{f['address']}:{f['port']} {f['detail']}" for f in findings),
        "probe_report_sha256": str(report.get("sha256")),
    }
    finished = datetime.fromisoformat(str(report.get("finished_at")))
    if datetime.fromisoformat(measured_at) - finished > timedelta(days=PROBE_FRESH_DAYS):
        return Finding(
            "probe",
            Verdict.not_assessed,
            f"The newest probe ({finished:%Y-%m-%d}) is older than {PROBE_FRESH_DAYS} days: "
            "run `goodthings probe` again.",
            evidence,
        )
    if findings:
        return Finding(
            "probe",
            Verdict.failed,
            f"The auditor's probe found {len(findings)} problem(s) on the network.",
            evidence,
        )
    return Finding(
        "probe",
        Verdict.passed,
        f"The auditor's probe of {evidence['hosts_probed']} address(es) found no default "
        "login and no password sent in clear.",
        evidence,
    )


def _not_assessed(control: Control) -> Finding:
    if control.collection is Collection.not_assessed:
        return Finding("", Verdict.not_assessed, f"Not assessed: {control.not_assessed_because}")
    why = (
        "no auditor's probe has been run yet (`goodthings probe`)"
        if control.collection is Collection.probe
        else "it needs the operator's statement and the document behind it"
    )
    return Finding("", Verdict.not_assessed, f"Not assessed automatically: {why}.")
