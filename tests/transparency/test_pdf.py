"""The one PDF helper the signs and the reports draw with."""

from __future__ import annotations

import pytest

from goodthings.transparency.pdf import a4_document, latin1


@pytest.mark.parametrize(
    ("text", "printable"),
    [
        ("\u2018quoted\u2019 \u201cwords\u201d", "'quoted' \"words\""),
        ("9\u201317 \u2014 weekdays\u2026", "9-17 - weekdays..."),
        ("no\u00a0break", "no break"),
        ("caf\u00e9 stays", "caf\u00e9 stays"),
        ("\u2603 snowman", "? snowman"),
    ],
)
def test_text_is_reduced_to_what_helvetica_can_draw(text: str, printable: str) -> None:
    assert latin1(text) == printable


def test_a4_document_opens_one_uncompressed_page_with_its_title_and_author() -> None:
    pdf = a4_document("Sensors \u2014 here", "Caf\u00e9 Ltd", break_margin=None)
    pdf.set_font("Helvetica", "", 12)
    pdf.text(20, 20, "searchable")
    data = bytes(pdf.output())
    assert b"/Count 1" in data
    assert b"/MediaBox [0 0 595.28 841.89]" in data
    assert b"(searchable)" in data
    assert pdf.title == "Sensors - here" and pdf.author == "Caf\u00e9 Ltd"
    assert not pdf.auto_page_break


def test_a4_document_breaks_pages_above_the_given_margin() -> None:
    pdf = a4_document("Records", "Operator", break_margin=15)
    assert pdf.auto_page_break and pdf.b_margin == 15
