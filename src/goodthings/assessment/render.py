"""The report for people: a page that says the outcome first and the evidence after, and a PDF.

Both are drawn from the signed report document, never from the live state again, so what a
person reads is what was signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from goodthings.transparency.pdf import a4_document, latin1

_ENV = Environment(
    loader=PackageLoader("goodthings.assessment", "templates"),
    autoescape=select_autoescape(["html"]),
)


def headline(report: Mapping[str, Any]) -> str:
    """The one sentence a person needs: is everything that could be checked met?"""
    failed = report["summary"]["fail"]
    if failed:
        return f"{failed} control{'s are' if failed != 1 else ' is'} not met: see below."
    return "Every control the hub could check from its live state is met."


def to_html(report: Mapping[str, Any], key_id: str) -> str:
    statements = report["conformance_statement"]
    verdicts = report["verdicts"]
    return _ENV.get_template("report.html").render(
        report=report,
        key_id=key_id,
        words={"headline": headline(report)},
        rows=list(zip(statements, verdicts, strict=True)),
        failed=[v for v in verdicts if v["verdict"] == "fail"],
        titles={s["provision"]: s["title"] for s in statements},
    )


def to_pdf(report: Mapping[str, Any], key_id: str) -> bytes:
    """A4 pages with the page's sections, in the PDF's built-in Helvetica."""
    pdf = a4_document(f"Assessment of {report['deployment']}", "goodthings", break_margin=15)
    width = pdf.epw

    def paragraph(text: str, size: float = 10, style: str = "") -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    summary = report["summary"]
    paragraph(f"Assessment of {report['deployment']}", 16, "B")
    paragraph(
        f"Measured {report['measured_at']} from the hub's live state; signed by key {key_id}."
    )
    paragraph(headline(report), 12, "B")
    paragraph(
        f"{summary['pass']} met, {summary['fail']} not met, {summary['not applicable']} not "
        f"applicable, {summary['inconclusive']} need a statement or a probe."
    )
    changes = report.get("changes")
    if changes and changes["worse"]:
        paragraph(f"What got worse since {changes['since']}:", 11, "B")
        for change in changes["worse"]:
            paragraph(f"{change['provision']}: was {change['was']}, now {change['now']}")
    paragraph("Every control", 13, "B")
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(col_widths=(55, 20, 95), text_align="LEFT") as table:
        header = table.row()
        for title in ("Control", "Met?", "Verdict"):
            header.cell(title)
        for statement, verdict in zip(
            report["conformance_statement"], report["verdicts"], strict=True
        ):
            row = table.row()
            row.cell(latin1(f"{statement['title']} ({statement['provision']})"))
            row.cell(latin1(statement["status"]))
            row.cell(latin1(f"{verdict['verdict']}: {verdict['summary']}"))
    return bytes(pdf.output())
