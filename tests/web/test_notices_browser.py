"""Notices and signs as people meet them: in a real browser, accessible, with screenshots kept.

The sign's QR code must lead to the place's notice: the test opens the URL the code encodes,
as a phone that scanned it would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from browsers import check, chromium, screenshots, served
from cli_helpers import run
from goodthings.assessment.label import LABEL_VALID
from goodthings.assessment.record import ASSESSMENTS_DIR
from goodthings.core.config import Home
from goodthings.core.manifest import load_manifest
from goodthings.core.store import tables as t
from goodthings.deployment import open_store
from goodthings.transparency.signs import build_sign, to_svg
from goodthings.web.app import create_app
from templates import init_from_template

PLACE = "mill-street-north"


@pytest.fixture
def city(tmp_path: Path) -> Iterator[tuple[str, Home]]:
    home = Home(tmp_path / "city-street")
    init_from_template(home, "city-street")
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


def _assess(capsys: pytest.CaptureFixture[str], home: Home) -> Path:
    """Run `goodthings assess` on the deployment; the path of the report it kept."""
    ran = run(capsys, "assess", "--home", str(home.root), "--json")
    assert ran.code == 0, ran.err
    return sorted((home.root / ASSESSMENTS_DIR).glob("*.json"))[-1]


def _sign_svg(capsys: pytest.CaptureFixture[str], home: Home, base: str, out: Path) -> str:
    argv = ["sign", "--place", PLACE, "--base-url", base, "--out", str(out)]
    ran = run(capsys, *argv, "--home", str(home.root))
    assert ran.code == 0, ran.err
    return out.read_text()


def _show_sign(page: Page, svg: str) -> None:
    page.set_viewport_size({"width": 794, "height": 1123})
    page.set_content(
        '<!doctype html><html lang="en"><title>Sign</title>'
        f'<body style="margin:0"><div style="width:794px">{svg}</div></body></html>'
    )


def test_a_fresh_passing_assessment_puts_its_label_on_the_notice_and_the_sign(
    city: tuple[str, Home],
    page: Page,
    shots: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    base, home = city
    _assess(capsys, home)
    page.goto(f"{base}/notice/place/{PLACE}")
    badge = page.locator("#assessment + p img")
    expect(badge).to_be_visible()
    assert re.search(
        r"security level [123] of 4, privacy grade A", badge.get_attribute("alt") or ""
    )
    assert page.evaluate("document.querySelector('#assessment + p img').naturalWidth") > 0
    check(page, shots, "03-notice-with-its-label")
    page.locator("#assessment + p a").click()
    expect(page.locator("h1")).to_have_text("How this deployment was assessed")
    _show_sign(page, _sign_svg(capsys, home, base, tmp_path / "sign.svg"))
    label_code = page.locator("path.label-qr")
    expect(label_code).to_have_count(1)
    assert re.search(r"security level [123] of 4", page.locator("svg").first.text_content() or "")
    page.locator("svg").first.screenshot(path=str(shots / "04-sign-with-its-label.png"))
    page.goto(page.locator("svg a").filter(has=label_code).get_attribute("href") or "")
    expect(page.locator("h1")).to_have_text("How this deployment was assessed")


@pytest.mark.parametrize("why", ["stale", "failing"])
def test_a_stale_or_failing_assessment_puts_no_label_anywhere(
    city: tuple[str, Home],
    page: Page,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    why: str,
) -> None:
    base, home = city
    kept = _assess(capsys, home)
    if why == "stale":  # the same report, as if made before the label's validity
        document = json.loads(kept.read_text())
        measured = datetime.now(UTC) - LABEL_VALID - timedelta(days=1)
        document["report"]["measured_at"] = measured.isoformat(timespec="seconds")
        kept.write_text(json.dumps(document))
    else:  # a baseline control fails: every model's support period has ended
        engine = open_store(home)
        with engine.begin() as connection:
            connection.execute(update(t.device_models).values(support_until=date(2020, 1, 1)))
        engine.dispose()
        ran = run(capsys, "assess", "--home", str(home.root), "--json")
        assert ran.code == 1
    page.goto(f"{base}/notice/place/{PLACE}")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#assessment")).to_have_count(0)
    expect(page.locator("img[src='/assessment/label.svg']")).to_have_count(0)
    _show_sign(page, _sign_svg(capsys, home, base, tmp_path / "sign.svg"))
    expect(page.locator("path.qr")).to_have_count(1)
    expect(page.locator("path.label-qr")).to_have_count(0)
    assert "security level" not in (page.locator("svg").first.text_content() or "")
