"""Notices and signs as people meet them: in a real browser, accessible, with screenshots kept.

The sign's QR code must lead to the place's notice: the test opens the URL the code encodes,
as a phone that scanned it would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browsers import check, chromium, screenshots, served
from goodthings.core.config import Home
from goodthings.core.manifest import load_manifest
from goodthings.deployment.directory import init_deployment
from goodthings.transparency.signs import build_sign, to_svg
from goodthings.web.app import create_app

PLACE = "mill-street-north"


@pytest.fixture
def city(tmp_path: Path) -> Iterator[tuple[str, Home]]:
    home = Home(tmp_path / "city-street")
    init_deployment(home, "city-street")
    with served(create_app(home)) as base:
        yield base, home


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return screenshots(tmp_path_factory, request)


def test_the_notices_render_and_are_accessible(
    city: tuple[str, Home], page: Page, shots: Path
) -> None:
    base, _ = city
    page.goto(f"{base}/notice")
    expect(page.locator("h1")).to_be_visible()
    check(page, shots, "01-deployment-notice")
    page.goto(f"{base}/notice/place/{PLACE}")
    expect(page.get_by_text("Mill Street (north)").first).to_be_visible()
    check(page, shots, "02-place-notice")
    page.goto(f"{base}/notice/place/{PLACE}?lang=fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    check(page, shots, "03-place-notice-in-french")


def test_the_sign_renders_and_its_link_opens_the_place_s_notice(
    city: tuple[str, Home], page: Page, shots: Path
) -> None:
    base, home = city
    loaded = load_manifest(home.manifest_path)
    sign = build_sign(loaded.manifest, PLACE, base)
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    page.set_content(
        '<!doctype html><html lang="en"><title>Sign</title>'
        f'<body style="margin:0"><div style="width:794px">{to_svg(sign)}</div></body></html>'
    )
    page.locator("svg").first.screenshot(path=str(shots / "01-sign.png"))
    text = page.locator("svg").first.text_content() or ""
    assert sign.operator in text and "Mill Street (north)" in text
    page.goto(sign.url)
    expect(page.get_by_text("Mill Street (north)").first).to_be_visible()
    check(page, shots, "02-where-the-qr-code-leads")
