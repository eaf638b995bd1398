"""Signs for places: SVG and PDF, with an icon per kind of data and purpose and a QR code."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import segno

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.manifest import load_manifest_text
from goodthings.deployment.directory import EXAMPLES
from goodthings.transparency.signs import SignSize, build_sign, to_pdf, to_svg

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "examples"
SVG = "{http://www.w3.org/2000/svg}"
BASE = "https://hub.example/goodthings"


def _manifest(example: str):  # type: ignore[no-untyped-def]
    return load_manifest_text((EXAMPLES_DIR / f"{example}.yaml").read_text()).manifest


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_place_of_every_example_gets_a_valid_svg_sign(example: str) -> None:
    manifest = _manifest(example)
    for place in manifest.places:
        sign = build_sign(manifest, place.id, BASE)
        root = ET.fromstring(to_svg(sign).split("\n", 1)[1])  # noqa: S314 (our own output)
        assert root.tag == f"{SVG}svg"
        texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
        assert place.name in texts and manifest.operator.legal_name in texts
        titles = {t.text for t in root.iter(f"{SVG}title")}
        assert {row.icon.label for row in sign.data} <= titles
        assert {row.icon.label for row in sign.purposes} <= titles


def test_the_qr_code_is_the_places_notice_address() -> None:
    manifest = _manifest("city-street")
    sign = build_sign(manifest, "mill-street-north", BASE)
    assert sign.url == f"{BASE}/notice/place/mill-street-north"
    expected = segno.make(sign.url, error="m", micro=False)
    matrix = [list(map(bool, row)) for row in expected.matrix_iter(scale=1, border=4)]
    assert [list(row) for row in sign.qr] == matrix
    svg = to_svg(sign)
    path = re.search(r'<path class="qr" d="([^"]+)" fill="#000000">', svg)
    assert path is not None
    assert path.group(1).count("M") == sum(map(sum, matrix))


def test_the_sign_shows_what_is_personal_and_for_how_long() -> None:
    sign = build_sign(_manifest("city-street"), "mill-street-north", BASE)
    probe = next(row for row in sign.data if row.personal)
    assert probe.icon.id == "device-identifier" and probe.kept == "1 day"
    assert {p.icon.id for p in sign.purposes} >= {"public", "transport", "law"}


def test_pdf_sign_is_one_a4_page_with_the_text_and_a_link() -> None:
    sign = build_sign(_manifest("smart-home"), "flat-4", BASE)
    pdf = to_pdf(sign)
    assert pdf.startswith(b"%PDF-")
    assert b"/Count 1" in pdf
    assert b"/MediaBox [0 0 595.28 841.89]" in pdf
    assert b"(Sensors in use here)" in pdf and b"(Flat 4)" in pdf
    assert f"/URI ({BASE}/notice/place/flat-4)".encode() in pdf


def test_sign_command(capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path) -> None:
    assert run(capsys, "init", str(home.root), "--example", "care-home").code == 0
    target = tmp_path / "room.pdf"
    made = run(capsys, "sign", "--place", "room-1", "--out", str(target), "--home", str(home.root))
    assert made.code == 0, made.err
    assert target.read_bytes().startswith(b"%PDF-")
    svg = tmp_path / "room.svg"
    assert (
        run(capsys, "sign", "--place", "room-1", "--out", str(svg), "--home", str(home.root)).code
        == 0
    )
    assert "http://127.0.0.1:8080/notice/place/room-1" in svg.read_text()
    wrong = run(
        capsys,
        "sign",
        "--place",
        "room-1",
        "--out",
        str(tmp_path / "x.png"),
        "--home",
        str(home.root),
    )
    assert wrong.code == 1 and ".pdf or .svg" in wrong.err
    missing = run(capsys, "sign", "--place", "attic", "--out", str(svg), "--home", str(home.root))
    assert missing.code == 1 and "there is no place 'attic'" in missing.err


def test_the_bare_place_still_works_with_a_warning(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    assert run(capsys, "init", str(home.root), "--example", "care-home").code == 0
    svg = tmp_path / "room.svg"
    made = run(capsys, "sign", "room-1", "--out", str(svg), "--home", str(home.root))
    assert made.code == 0 and svg.exists()
    assert "deprecated" in made.err and "--place room-1" in made.err
    clash = run(
        capsys, "sign", "room-1", "--place", "room-2", "--out", str(svg), "--home", str(home.root)
    )
    assert clash.code == 1 and "give one" in clash.err
    neither = run(capsys, "sign", "--out", str(svg), "--home", str(home.root))
    assert neither.code == 1 and "--place" in neither.err


def test_a_description_is_never_cut_inside_brackets() -> None:
    sign = build_sign(_manifest("smart-home"), "flat-4", BASE)
    for row in sign.data:
        assert row.what.count("(") == row.what.count(")"), row.what


def test_no_two_purposes_or_kinds_of_data_on_a_sign_share_an_icon_by_accident() -> None:
    for example in EXAMPLES:
        manifest = _manifest(example)
        for place in manifest.places:
            sign = build_sign(manifest, place.id, BASE)
            purposes = [row.icon.id for row in sign.purposes]
            assert len(purposes) == len(set(purposes)), (example, place.id, purposes)


@pytest.mark.parametrize(
    ("size", "media_box"),
    [
        (SignSize.a5, b"/MediaBox [0 0 419.53 595.28]"),
        (SignSize.sticker, b"/MediaBox [0 0 209.76 297.64]"),
    ],
)
def test_smaller_signs_are_one_page_of_their_size(size: SignSize, media_box: bytes) -> None:
    pdf = to_pdf(build_sign(_manifest("care-home"), "room-1", BASE), size)
    assert b"/Count 1" in pdf and media_box in pdf
    assert b"(Sensors in use here)" in pdf


def test_the_sign_command_takes_a_size(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    assert run(capsys, "init", str(home.root), "--example", "care-home").code == 0
    svg = tmp_path / "sticker.svg"
    argv = ["sign", "--place", "room-1", "--size", "sticker", "--out", str(svg)]
    assert run(capsys, *argv, "--home", str(home.root)).code == 0
    assert 'width="74.0mm" height="105.0mm"' in svg.read_text()


def test_a_french_sign_has_the_hubs_and_the_operators_words_in_french() -> None:
    sign = build_sign(_manifest("smart-home"), "flat-4", BASE, "fr")
    assert sign.place == "Appartement 4" and sign.url == f"{BASE}/notice/place/flat-4?lang=fr"
    assert sign.data[0].what == "L'électricité que l'appartement consomme en ce moment"
    assert sign.data[0].kept == "13 mois"
    assert "Pour gérer les paiements, les factures et les reçus" in {p.why for p in sign.purposes}
    svg = to_svg(sign)
    assert "Des capteurs sont utilisés ici" in svg and "Sensors in use" not in svg
    assert "<title>Consommation d'énergie</title>" in svg, "the icons' names too"
    assert "(Des capteurs sont utilisés ici)".encode("latin-1") in to_pdf(sign)
    with pytest.raises(ValueError, match="no signs in 'de'"):
        build_sign(_manifest("smart-home"), "flat-4", BASE, "de")


def test_the_sign_command_takes_a_language(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    assert run(capsys, "init", str(home.root), "--example", "smart-home").code == 0
    svg = tmp_path / "flat.svg"
    argv = ["sign", "--place", "flat-4", "--out", str(svg), "--home", str(home.root)]
    made = run(capsys, *argv, "--language", "fr")
    assert made.code == 0, made.err
    assert "Appartement 4" in svg.read_text() and "/notice/place/flat-4?lang=fr" in svg.read_text()
    wrong = run(capsys, *argv, "--language", "de")
    assert wrong.code == 1 and "no signs in 'de'" in wrong.err


ENGLISH_LABEL_WORDS = (
    "QR code", "security level", "privacy grade", "assessed", "valid until", "of 4",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
"""The words the English sign labels things with: its codes and the assessment label."""


@pytest.mark.parametrize("size", ["a4", "a5", "sticker"])
def test_a_french_sign_has_no_english_label_words(
    size: str, capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    """Made the way an operator makes one: assessed, so the sign carries the label, in French."""
    assert run(capsys, "init", str(home.root), "--example", "smart-home").code == 0
    assert run(capsys, "assess", "--home", str(home.root)).code in (0, 1)
    svg = tmp_path / "flat.svg"
    argv = ["sign", "--place", "flat-4", "--out", str(svg), "--home", str(home.root)]
    made = run(capsys, *argv, "--language", "fr", "--size", size)
    assert made.code == 0, made.err
    assert "It carries the assessment label" in made.out
    root = ET.fromstring(svg.read_text().split("\n", 1)[1])  # noqa: S314 (our own output)
    words = " ".join(
        element.text or ""
        for element in root.iter()
        if element.tag in (f"{SVG}text", f"{SVG}title")
    )
    assert "niveau de sécurité" in words and "Code QR" in words
    english = [word for word in ENGLISH_LABEL_WORDS if word in words]
    assert not english, f"English on a French sign: {english}"
