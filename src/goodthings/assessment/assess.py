"""Run the catalogue against a live deployment: each automatic check once, a result per control."""

from __future__ import annotations

from dataclasses import dataclass, replace

from goodthings.assessment.catalogue import Catalogue, Collection, Control, Standard
from goodthings.assessment.checks import CHECKS
from goodthings.assessment.evidence import Context, Finding, Verdict


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
        else:
            results.append(ControlResult(control, _not_assessed(control)))
    return Assessment(catalogue.version, measured_at, tuple(results))


def _not_assessed(control: Control) -> Finding:
    why = (
        "the auditor's probe is not available yet"
        if control.collection is Collection.probe
        else "it needs the operator's statement and the document behind it"
    )
    return Finding("", Verdict.not_assessed, f"Not assessed automatically: {why}.")
