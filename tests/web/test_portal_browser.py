"""The portal in a real browser (headless Chromium via Playwright) against a real server:
the whole journey of a person, with an accessibility check (axe-core) and a screenshot of
every page. Screenshots go to $GOODTHINGS_SCREENSHOTS, else to the test's temporary directory.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browsers import check, chromium, screenshots, served
from goodthings.core.config import Home
from goodthings.rights.receipts import summary, verify
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import send
from templates import init_from_template

PHONE = {"width": 390, "height": 844}


@dataclass
class Running:
    base: str
    hub: Hub
    home: Home


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    home = Home(tmp_path / "smart-home")
    init_from_template(home, "smart-home")
    app = create_app(home)
    with served(app) as base:
        yield Running(base, app.state.hub, home)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return screenshots(tmp_path_factory, request)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # The portal's Content-Security-Policy forbids inline scripts: bypass it only to inject axe.
    context = browser.new_context(viewport=PHONE, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def invite_link(running: Running, subject: str) -> tuple[str, str]:
    from datetime import timedelta

    from goodthings.rights.signin import issue_invite

    with running.hub.engine.begin() as connection:
        made = issue_invite(connection, subject, running.base, timedelta(hours=1))
    return made.link, made.code


def test_the_whole_journey_of_a_person(server: Running, page: Page, shots: Path) -> None:
    link, _ = invite_link(server, "alex")
    page.goto(link)
    check(page, shots, "01-sign-in-link")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What we collect about you, Alex Rivera"
    )
    check(page, shots, "02-what-we-collect")

    # Switch heart rate on; the device's readings are now stored, decrypted for Alex, charted.
    choice = page.get_by_label(
        "You decide: to adjust the service to suit you, with your heart rate"
    )
    choice.select_option("exact")
    choice.locator("xpath=..").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert send(server.hub, "band-alex", "heart_rate", [62.5, 66.0, 71.25]) == 3
    page.reload()
    expect(page.locator("svg.chart").first).to_have_attribute(
        "aria-label",
        re.compile(
            r"^Your heart rate, measured by the wristband: 3 readings from \d\d \w{3} \d\d:\d\d "
            r"to \d\d \w{3} \d\d:\d\d UTC, between 62.5 beats a minute and 71.25 beats a "
            r"minute, latest 71.25 beats a minute$"
        ),
    )
    check(page, shots, "03-readings-and-chart")

    # Withdraw: the gate stops collecting at once.
    choice = page.get_by_label(
        "You decide: to adjust the service to suit you, with your heart rate"
    )
    choice.select_option("off")
    choice.locator("xpath=..").get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved")
    assert server.hub.pipeline.policies()["band-alex"].streams["heart_rate"].collect is False
    assert send(server.hub, "band-alex", "heart_rate", [80.0, 81.0]) == 0

    # History: two choices, each with a receipt that verifies offline.
    page.get_by_role("link", name="Your choices so far").click()
    expect(page.get_by_role("cell", name="Withdrawn")).to_be_visible()
    check(page, shots, "04-history")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Receipt").first.click()
    receipt = Path(download_info.value.path()).read_text()
    checked = verify(receipt, server.hub.signer.public_key())
    assert summary(checked.receipt).state == "withdrawn"
    event = checked.receipt["dpv:hasRecordOfActivity"]["dpv:hasConsentStatus"]
    assert "portal" in event["dpv:hasIndicationMethod"]

    page.get_by_role("link", name="Who used your data").click()
    expect(page.get_by_role("cell", name="Readings arrived from a device").first).to_be_visible()
    expect(page.get_by_role("cell", name="A choice was switched off").first).to_be_visible()
    check(page, shots, "05-who-used-my-data")

    page.get_by_role("link", name="Download your data").click()
    check(page, shots, "06-download")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes()))
    assert "71.25" in archive.read("readings.csv").decode()

    page.get_by_role("link", name="Erase your data").click()
    check(page, shots, "07-erase")
    page.get_by_label("Yes, erase my data").check()
    page.get_by_role("button", name="Erase my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data has been erased")
    check(page, shots, "08-erased")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download your erasure receipt").click()
    erasure = json.loads(Path(download_info.value.path()).read_text())
    assert verify(json.dumps(erasure), server.hub.signer.public_key()).receipt["kind"] == "erasure"
    assert erasure["receipt"]["outcome"]["readings_deleted"] == 3
    page.goto(server.base + "/portal")
    expect(page.get_by_label("Your code")).to_be_visible()


def test_signing_in_with_the_code_by_keyboard_alone(
    server: Running, page: Page, shots: Path
) -> None:
    _, code = invite_link(server, "sam")
    page.goto(server.base + "/portal")
    check(page, shots, "01-sign-in-with-code")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip")).to_be_focused()
    page.get_by_label("Your code").focus()
    page.keyboard.type(code.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What we collect about you, Sam Rivera"
    )


def test_a_wrong_code_says_what_to_do(server: Running, page: Page, shots: Path) -> None:
    page.goto(server.base + "/portal")
    page.get_by_label("Your code").fill("ABCD-EFGH")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Ask for a new one")
    check(page, shots, "01-wrong-code")


def test_a_french_browser_gets_the_portal_in_french(
    server: Running, browser: Browser, shots: Path
) -> None:
    context = browser.new_context(viewport=PHONE, bypass_csp=True, locale="fr-FR")
    page = context.new_page()
    try:
        link, _ = invite_link(server, "alex")
        page.goto(link)
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Ce que nous recueillons sur vous, Alex Rivera"
        )
        check(page, shots, "01-ce-que-nous-recueillons")
        page.get_by_role("link", name="Qui a utilisé vos données").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Qui a utilisé vos données")
        check(page, shots, "02-qui-a-utilise")
        page.get_by_role("link", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text("Who used your data")
    finally:
        context.close()
