"""`goodthings assess`: check the live deployment against the controls catalogue, with evidence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import typer

from goodthings.assessment import (
    Assessment,
    Context,
    Standard,
    Verdict,
    assess,
    load_catalogue,
)
from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.runtime import Hub


class Which(StrEnum):
    """The `--standard` choices: one family of controls, or all."""

    etsi = "etsi"
    psti = "psti"
    nist = "nist"
    gdpr = "gdpr"
    principles = "principles"
    all = "all"


_MARK = {
    Verdict.passed: "PASS",
    Verdict.failed: "FAIL",
    Verdict.not_applicable: "N/A ",
    Verdict.not_assessed: "----",
}


def assess_command(
    home: HomeOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the assessment as JSON, for machines.")
    ] = False,
    standard: Annotated[
        Which, typer.Option(help="Which controls to assess: one standard, or all.")
    ] = Which.all,
) -> None:
    """Check the deployment against the controls catalogue from its live state; exit 1 when an
    applicable automatic control fails."""
    deployment = home_of(home)
    hub = Hub.open(deployment)
    try:
        context = Context(
            engine=hub.engine,
            password_key=hub.password_key,
            public_key=load_public_key(deployment.keys_dir / SIGNING_PUBLIC_KEY),
            now=datetime.now(UTC),
        )
        chosen = None if standard is Which.all else Standard(standard.value)
        assessment = assess(load_catalogue(), context, chosen)
    finally:
        hub.close()
    if as_json:
        out.print(json.dumps(as_document(assessment), indent=2), markup=False)
    else:
        _print(assessment)
    if assessment.failed:
        raise typer.Exit(1)


def as_document(assessment: Assessment) -> dict[str, Any]:
    """The assessment as plain JSON data: a verdict per control with the evidence behind it."""
    return {
        "catalogue_version": assessment.catalogue_version,
        "measured_at": assessment.measured_at,
        "failed": len(assessment.failed),
        "controls": [
            {
                "id": result.control.id,
                "standard": str(result.control.standard),
                "reference": result.control.reference,
                "title": result.control.title,
                "collection": str(result.control.collection),
                "check": result.control.check,
                "verdict": str(result.finding.verdict),
                "summary": result.finding.summary,
                "evidence": {
                    key: list(value) if isinstance(value, tuple) else value
                    for key, value in result.finding.evidence.items()
                },
            }
            for result in assessment.results
        ],
    }


def _print(assessment: Assessment) -> None:
    for result in assessment.results:
        control, finding = result.control, result.finding
        out.print(
            f"{_MARK[finding.verdict]}  {control.id}  {control.title} ({control.reference})",
            markup=False,
        )
        out.print(f"      {finding.summary}", markup=False)
        for key, value in finding.evidence.items():
            shown = ", ".join(map(str, value)) if isinstance(value, tuple) else value
            out.print(
                f"      {key.replace('_', ' ')}: {shown if shown != '' else '-'}", markup=False
            )
    counts = {v: sum(r.finding.verdict is v for r in assessment.results) for v in Verdict}
    out.print(
        f"\n{len(assessment.results)} controls, measured {assessment.measured_at}: "
        f"{counts[Verdict.passed]} pass, {counts[Verdict.failed]} fail, "
        f"{counts[Verdict.not_applicable]} not applicable, "
        f"{counts[Verdict.not_assessed]} not assessed automatically (statement or probe).",
        markup=False,
    )
