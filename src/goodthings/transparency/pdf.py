"""PDF documents in the built-in Helvetica, shared by the signs and the reports.

Helvetica prints on any reader without embedding a font, but it only covers Latin-1: typographic
quotes, dashes and ellipses become plain ones, and anything else outside Latin-1 becomes "?".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # fpdf (with fontTools and Pillow) is ~35 MiB: loaded when a PDF is made
    from fpdf import FPDF

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def latin1(text: str) -> str:
    """Text Helvetica can draw, so a curly quote in the manifest never breaks a PDF."""
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def a4_document(
    title: str, author: str, *, break_margin: float | None, size: tuple[float, float] | None = None
) -> FPDF:
    """An uncompressed A4 document in millimetres with its first page open.

    Uncompressed so the text stays searchable in the bytes (tests and auditors grep it);
    `break_margin` is the bottom margin of automatic page breaks, `None` for a fixed one-page
    layout; `size` (width, height in millimetres) makes a page other than A4, for signs.
    """
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format=size or "A4")
    pdf.set_compression(False)
    pdf.set_title(latin1(title))
    pdf.set_author(latin1(author))
    if break_margin is None:
        pdf.set_auto_page_break(False)
    else:
        pdf.set_auto_page_break(True, margin=break_margin)
    pdf.add_page()
    return pdf
