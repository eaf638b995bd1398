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
            if control.id in DECLARED_USAGE_CONTROLS:
                finding = probed_usage(context.probe, measured_at)
            else:
                finding = probed(context.probe, measured_at)
            results.append(ControlResult(control, finding))
        else:
            results.append(ControlResult(control, _not_assessed(control)))
    return Assessment(catalogue.version, measured_at, tuple(results))


PROBE_FRESH_DAYS = 90
"""A probe older than this says little about the network as it is now."""

DECLARED_USAGE_CONTROLS = frozenset({"etsi-5.6-1"})
"""Controls about interfaces outside a device's declared usage: decided only by the probe's
comparison of open ports with the devices' MUD files, not by its logins."""


def probed(report: Mapping[str, Any], measured_at: str) -> Finding:
    """A probe control's verdict from the auditor's newest probe report: every finding."""
    findings = report.get("findings", [])
    evidence = _probe_evidence(report, findings)
    stale = _stale(report, measured_at, evidence)
    if stale is not None:
        return stale
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
        "login, no password sent in clear"
        + (
            " and no port outside a device's declared usage."
            if report.get("usage_checked")
            else "."
        ),
        evidence,
    )


def probed_usage(report: Mapping[str, Any], measured_at: str) -> Finding:
    """Whether the probe found open ports that the devices' declared usage does not name; not
    assessed when it compared no device with its declared usage (it was told none)."""
    findings = [f for f in report.get("findings", []) if f.get("kind") == "undeclared-port"]
    evidence = _probe_evidence(report, findings)
    stale = _stale(report, measured_at, evidence)
    if stale is not None:
        return stale
    checked = tuple(report.get("usage_checked", ()))
    if not checked:
        return Finding(
            "probe",
            Verdict.not_assessed,
            "The newest probe compared no device's open ports with its declared usage: run "
            "`goodthings probe --device ADDRESS=MODEL` with each model's MUD file kept.",
            evidence,
        )
    if findings:
        return Finding(
            "probe",
            Verdict.failed,
            f"The auditor's probe found {len(findings)} open port(s) that the devices' declared "
            "usage does not name.",
            evidence,
        )
    return Finding(
        "probe",
        Verdict.passed,
        f"Of the ports the auditor's probe looks at, none open on the {len(checked)} "
        "device(s) it compared with their declared usage lies outside it.",
        evidence,
    )


def _probe_evidence(report: Mapping[str, Any], findings: list[Any]) -> Evidence:
    return {
        "probe_finished_at": str(report.get("finished_at")),
        "authorised_by": str(report.get("authorised_by")),
        "targets": tuple(report.get("targets", ())),
        "hosts_probed": int(report.get("hosts_probed", 0)),
        "attempts": int(report.get("attempts", 0)),
        "usage_checked": tuple(report.get("usage_checked", ())),
        "findings": tuple(f"{f['address']}:{f['port']} {f['detail']}" for f in findings),
        "probe_report_sha256": str(report.get("sha256")),
    }


def _stale(report: Mapping[str, Any], measured_at: str, evidence: Evidence) -> Finding | None:
    finished = datetime.fromisoformat(str(report.get("finished_at")))
    if datetime.fromisoformat(measured_at) - finished <= timedelta(days=PROBE_FRESH_DAYS):
        return None
    return Finding(
        "probe",
        Verdict.not_assessed,
        f"The newest probe ({finished:%Y-%m-%d}) is older than {PROBE_FRESH_DAYS} days: "
        "run `goodthings probe` again.",
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
