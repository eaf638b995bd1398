"""`goodthings assess`: check the live deployment against the controls catalogue, with evidence."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from goodthings.assessment import (
    Assessment,
    BundleError,
    Context,
    Standard,
    Verdict,
    assess,
    export_bundle,
    label_standing,
    latest_signed,
    load_catalogue,
    record_assessment,
    to_html,
    to_pdf,
    verify_bundle,
)
from goodthings.assessment.label import badge_svg
from goodthings.assessment.probe import latest_probe
from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import load_signing_key
from goodthings.core.ledger import key_id
from goodthings.core.manifest import load_manifest
from goodthings.runtime import Hub


class Which(StrEnum):
    """The `--standard` choices: one family of controls, or all."""

    etsi = "etsi"
    psti = "psti"
    nist = "nist"
    cra = "cra"
    en18031 = "en18031"
    gdpr = "gdpr"
    principles = "principles"
    all = "all"


_MARK = {
    Verdict.passed: "PASS",
    Verdict.failed: "FAIL",
    Verdict.not_applicable: "N/A ",
    Verdict.not_assessed: "----",
}


class Format(StrEnum):
    """What `goodthings assess` writes: words for a terminal, or a report file."""

    text = "text"
    json = "json"
    html = "html"
    pdf = "pdf"


app = typer.Typer(
    help=(
        "Check the deployment against the controls catalogue from its live state, sign the "
        "report, and let anyone verify it offline."
    ),
    invoke_without_command=True,
)


@app.callback()
def assess_command(
    context: typer.Context,
    home: HomeOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the signed report as JSON (as --format json).")
    ] = False,
    standard: Annotated[
        Which, typer.Option(help="Which controls to assess: one standard, or all.")
    ] = Which.all,
    form: Annotated[
        Format,
        typer.Option(
            "--format", help="text for this terminal; json, html or pdf for the signed report."
        ),
    ] = Format.text,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", help="Write the report to this file instead of printing it."),
    ] = None,
) -> None:
    """Check the deployment against the controls catalogue from its live state; the report is
    signed, recorded in the ledger and kept in assessments/. Exit 1 when an applicable
    automatic control fails."""
    if context.invoked_subcommand is not None:
        return
    if as_json:
        form = Format.json
    if form is Format.pdf and out_file is None:
        raise typer.BadParameter("a PDF goes to a file: add --out FILE", param_hint="--format")
    deployment = home_of(home)
    name = load_manifest(deployment.manifest_path).manifest.deployment.name
    hub = Hub.open(deployment)
    try:
        context_ = Context(
            engine=hub.engine,
            password_key=hub.password_key,
            public_key=hub.signer.public_key(),
            now=datetime.now(UTC),
            probe=latest_probe(deployment.root),
            public_url=deployment.settings.public_url,
        )
        chosen = None if standard is Which.all else Standard(standard.value)
        assessment = assess(load_catalogue(), context_, chosen)
        recorded = record_assessment(
            assessment,
            engine=hub.engine,
            signer=hub.signer,
            root=deployment.root,
            deployment=name,
            actor="operator:cli",
        )
    finally:
        hub.close()
    signing_key = recorded.signed["signature"]["key_id"]
    report = recorded.signed["report"]
    if form is Format.text:
        _print(assessment)
        _print_changes(report)
    else:
        content = _rendered(form, recorded.signed, signing_key)
        if out_file is None:
            sys.stdout.write(content.decode() if isinstance(content, bytes) else content)
        else:
            _write(out_file, content)
    err.print(
        f"Signed by key {signing_key}, recorded as ledger entry {recorded.ledger_seq}, "
        f"kept as {recorded.path}.",
        markup=False,
    )
    if assessment.failed:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    out_dir: Annotated[
        Path, typer.Option("--out", help="A new directory to write the bundle into.")
    ],
    home: HomeOption = None,
) -> None:
    """Write the latest report as a bundle an auditor can verify on another machine: the
    signed report, the ledger checkpoint it cites, the public key and the page."""
    deployment = home_of(home)
    signed = latest_signed(deployment.root)
    if signed is None:
        raise GoodthingsError("there is no assessment to export yet: run `goodthings assess` first")
    signer = load_signing_key(deployment.keys_dir)
    page = to_html(signed["report"], key_id(signer.public_key()))
    try:
        written = export_bundle(signed, page, signer, out_dir)
    except BundleError as error:
        raise GoodthingsError(str(error)) from None
    out.print(
        f"Wrote {len(written)} files to {out_dir}. Anyone can check them with "
        f"`goodthings assess verify {out_dir}`; the signing key id is "
        f"{key_id(signer.public_key())}.",
        markup=False,
    )


@app.command("verify")
def verify_command(
    bundle: Annotated[Path, typer.Argument(help="The bundle directory to check.")],
    expected: Annotated[
        str | None,
        typer.Option(
            "--key-id", help="The key id the deployment publishes; refuse any other signer."
        ),
    ] = None,
) -> None:
    """Check a bundle offline, with no access to the hub: every file, both signatures, the
    cited ledger checkpoint and every evidence hash. Exit 1 naming what does not match."""
    signing_key, problems = verify_bundle(bundle, expected_key_id=expected)
    if problems:
        for problem in problems:
            err.print(f"does not match: {problem}", markup=False)
        raise typer.Exit(1)
    out.print(
        f"The bundle verifies: signed by key {signing_key}, nothing changed since. Compare "
        "that key id with the one the deployment publishes"
        + (" (it matches --key-id)." if expected else ", or pass --key-id to check it."),
        markup=False,
    )


@app.command("label")
def label_command(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the badge (SVG) to print or publish.")
    ],
    home: HomeOption = None,
) -> None:
    """Write the label the latest assessment earns as an SVG badge: its security level, its
    privacy grade and until when it is valid. Refused once the assessment is stale."""
    standing = label_standing(home_of(home).root)
    label = standing.label
    if label is None:
        if latest_signed(home_of(home).root) is None:
            raise GoodthingsError("there is no assessment yet: run `goodthings assess` first")
        hint = " (see `goodthings assess --standard psti`)" if standing.below_baseline else ""
        raise GoodthingsError(f"no label: {standing.why_not}{hint}; assess again")
    _write(out_file, badge_svg(label))
    out.print(f"Wrote {out_file}: {label.in_words()}.", markup=False)


def _rendered(form: Format, signed: dict[str, Any], signing_key: str) -> str | bytes:
    if form is Format.json:
        return json.dumps(signed, indent=2, ensure_ascii=False) + "\n"
    if form is Format.html:
        return to_html(signed["report"], signing_key)
    return to_pdf(signed["report"], signing_key)


def _write(path: Path, content: str | bytes) -> None:
    try:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as error:
        raise GoodthingsError(f"cannot write the report to {path}: {error.strerror}") from None


def _print_changes(report: dict[str, Any]) -> None:
    changes = report.get("changes")
    if not changes:
        return
    if not changes["worse"]:
        out.print(f"Nothing got worse since {changes['since']}.", markup=False)
        return
    out.print(f"What got worse since {changes['since']}:", markup=False)
    for change in changes["worse"]:
        out.print(
            f"  {change['provision']}: was {change['was']}, now {change['now']}", markup=False
        )


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
