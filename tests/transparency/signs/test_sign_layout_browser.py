"""Every sign, for every example place and paper size, drawn by Chromium: no two text boxes,
icons or the QR code overlap, and nothing runs off the page. Screenshots go to
test-artifacts/signs/ for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from browsers import chromium
from goodthings.core.manifest import load_manifest_text
from goodthings.deployment.directory import EXAMPLES
from goodthings.transparency.signs import SignSize, build_sign, to_svg

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "signs"
BASE = "https://hub.example/goodthings"
PX_PER_MM = 96 / 25.4

# Every element drawn on the sign with its page box: text, icons (their 24x24 frame), the QR code.
_BOXES = """() => {
  const svg = document.querySelector('svg').getBoundingClientRect();
  const boxes = [...document.querySelectorAll('text, g.icon, path.qr')].map((e) => {
    const r = e.getBoundingClientRect();
    return {what: e.textContent.slice(0, 40) || e.tagName, x: r.x, y: r.y, w: r.width, h: r.height};
  });
  const page = document.scrollingElement;
  return {svg: {x: svg.x, y: svg.y, w: svg.width, h: svg.height}, boxes,
          scroll: [page.scrollWidth, page.clientWidth, page.scrollHeight, page.clientHeight]};
}"""


def _places() -> list[tuple[str, str]]:
    found = []
    for example in EXAMPLES:
        manifest = load_manifest_text((ROOT / "examples" / f"{example}.yaml").read_text()).manifest
        found += [(example, place.id) for place in manifest.places]
    return found


PLACES = _places()
CASES = [(example, place, "en") for example, place in PLACES] + [
    (example, place, "fr") for example, place in PLACES if example == "smart-home"
]
"""Every place in English; the smart-home example, which gives its texts in French too, in
French as well (French words are longer: the layout must still fit)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    slack = 0.5  # px: anti-aliasing, not layout
    return (
        a["x"] + a["w"] - slack > b["x"]
        and b["x"] + b["w"] - slack > a["x"]
        and a["y"] + a["h"] - slack > b["y"]
        and b["y"] + b["h"] - slack > a["y"]
    )


LABEL = (
    "Maple Court Housing Co-operative, Flat 4: security level 2 of 4, privacy grade A, "
    "assessed 02 December 2026, valid until 01 January 2027"
)
"""A label in words as long as a real one: the sign makes room for it and its second code."""


@pytest.mark.parametrize("label", [None, LABEL], ids=["plain", "labelled"])
@pytest.mark.parametrize("size", list(SignSize), ids=str)
@pytest.mark.parametrize(
    ("example", "place", "language"), CASES, ids=[f"{e}-{p}-{lang}" for e, p, lang in CASES]
)
def test_nothing_on_the_sign_overlaps_or_is_cut_off(
    browser: Browser,
    example: str,
    place: str,
    language: str,
    size: SignSize,
    label: str | None,
) -> None:
    manifest = load_manifest_text((ROOT / "examples" / f"{example}.yaml").read_text()).manifest
    svg = to_svg(build_sign(manifest, place, BASE, language, label), size).split("\n", 1)[1]
    width, height = (round(mm * PX_PER_MM) for mm in size.millimetres)
    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=2)
    try:
        page.set_content(
            f"<!doctype html><html><style>body{{margin:0}} svg{{display:block}}</style><body>{svg}</body></html>"
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        suffix = ("" if language == "en" else "-" + language) + ("-labelled" if label else "")
        shot = ARTIFACTS / f"{example}-{place}-{size}{suffix}.png"
        page.screenshot(path=str(shot), full_page=True)
        drawn = page.evaluate(_BOXES)
    finally:
        page.close()
    boxes, frame = drawn["boxes"], drawn["svg"]
    assert len(boxes) > 5
    clashes = [
        (a["what"], b["what"])
        for index, a in enumerate(boxes)
        for b in boxes[index + 1 :]
        if _overlap(a, b)
    ]
    assert not clashes, f"overlapping on the {size} sign: {clashes}"
    outside = [
        box["what"]
        for box in boxes
        if box["x"] < frame["x"] - 0.5
        or box["y"] < frame["y"] - 0.5
        or box["x"] + box["w"] > frame["x"] + frame["w"] + 0.5
        or box["y"] + box["h"] > frame["y"] + frame["h"] + 0.5
    ]
    assert not outside, f"cut off at the edge of the {size} sign: {outside}"
    scroll_width, client_width, scroll_height, client_height = drawn["scroll"]
    assert scroll_width <= client_width and scroll_height <= client_height
