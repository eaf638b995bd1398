"""The record of processing as an HTML page and as a PDF document."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from goodthings.transparency.pdf import a4_document, latin1
from goodthings.transparency.reports.processing import ProcessingRecord

_ENV = Environment(
    loader=PackageLoader("goodthings.transparency.reports", "templates"),
    autoescape=select_autoescape(["html"]),
)


def to_html(record: ProcessingRecord) -> str:
    return _ENV.get_template("processing.html").render(record=record)


def to_pdf(record: ProcessingRecord) -> bytes:
    """A4 pages with the same sections as the HTML, in the PDF's built-in Helvetica."""
    pdf = a4_document(
        f"Records of processing: {record.deployment}", record.controller, break_margin=15
    )
    width = pdf.epw

    def heading(text: str, size: float) -> None:
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(width, size * 0.5, latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def rows(pairs: list[tuple[str, str]]) -> None:
        pdf.set_font("Helvetica", "", 9)
        with pdf.table(
            col_widths=(35, 105), text_align="LEFT", first_row_as_headings=False
        ) as table:
            for label, value in pairs:
                row = table.row()
                row.cell(latin1(label))
                row.cell(latin1(value))
        pdf.ln(3)

    heading(f"Records of processing: {record.deployment}", 16)
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        width,
        5,
        latin1(
            f"Generated {record.generated_at} from the applied manifest and the store. "
            "In the shape of GDPR Art. 30(1)."
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    heading("Controller", 13)
    rows(
        [
            ("Controller", f"{record.controller}: {record.controller_contact}"),
            ("Data protection contact", record.dpo),
            ("Accountable person", record.accountable),
            ("Where data is stored", f"{record.storage} database; personal values encrypted"),
        ]
    )
    heading("Processing activities", 13)
    for activity in record.activities:
        heading(f"{activity.stream}: {activity.purpose_text}", 11)
        held = record.held.get(activity.stream)
        pairs = [
            ("Purpose", f"{activity.purpose_text} ({activity.purpose}): {activity.how}"),
            ("Legal basis", activity.legal_basis),
            ("Data subjects", activity.subjects),
            ("Personal data", activity.data_category),
            ("Recipients", "; ".join(activity.recipients) or "none"),
            ("Retention", activity.retention),
            ("Where collected", ", ".join(activity.places)),
            ("Automated decisions, profiling", activity.automated or "none"),
            ("Security measures", "; ".join(activity.measures)),
        ]
        if held is not None:
            pairs.append(
                (
                    "Held now",
                    f"{held.readings} readings; consents: {held.consents_given} given, "
                    f"{held.consents_withdrawn} withdrawn",
                )
            )
        rows(pairs)
    heading("Privacy impact summary", 13)
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(col_widths=(40, 60, 40), text_align="LEFT") as table:
        header = table.row()
        for title in ("Risk", "Detail", "Measures"):
            header.cell(title)
        for risk in record.risks:
            row = table.row()
            row.cell(latin1(risk.title))
            row.cell(latin1(risk.detail))
            row.cell(latin1(risk.measures))
    return bytes(pdf.output())
