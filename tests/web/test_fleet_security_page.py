"""The operator's fleet-security page, in a real headless Chromium against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from browsers import chromium, served
from console_helpers import PASSWORD, add_account, next_code, secret_of
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.runtime.hub import Hub
from goodthings.security import Role
from goodthings.security.advisories import (
    read_advisory,
    read_sbom,
    store_advisory,
    store_components,
)
from goodthings.security.credentials import issue_token, record_refusal
from goodthings.security.lockout import LockEvent, Scope, record_lockouts
from goodthings.security.passwords import check_password
from goodthings.web.app import create_app
from templates import init_from_template

CSAF = Path(__file__).resolve().parent.parent / "security" / "data" / "csaf-wattwise.json"
ADVISORIES = Path(__file__).resolve().parent.parent / "security" / "advisories" / "data"


@pytest.fixture
def served_hub(home: Home) -> Iterator[tuple[str, Hub]]:
    init_from_template(home, "smart-home")
    app = create_app(home)
    with served(app) as base:
        yield base, app.state.hub


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


def _sign_in(page: Page, base: str, hub: Hub, path: str) -> None:
    """An operator's account, signed in through the pages (password, then a code)."""
    add_account(hub, "olu", Role.operator)
    page.goto(f"{base}{path}")
    expect(page).to_have_url(f"{base}/console/login")
    page.get_by_label("Name").fill("olu")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("The 6-digit code your app shows").fill(next_code(secret_of(hub, "olu")))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/console")
    page.goto(f"{base}{path}")


def _findings(hub: Hub) -> None:
    """A fleet with something in every section."""
    with hub.engine.begin() as connection:
        issue_token(connection, "meter-1")
        record_refusal(connection, "thermostat-1", check_password("xc3511"))
        record_lockouts(connection, [LockEvent(Scope.address, "192.0.2.7", 5, 1.0)])
        store_advisory(connection, read_advisory(CSAF))
        store_components(connection, "wattwise-m2", read_sbom(ADVISORIES / "wattwise-m2.spdx.json"))
        store_advisory(connection, read_advisory(ADVISORIES / "osv-pypi-requests.json"))
        store_advisory(connection, read_advisory(ADVISORIES / "osv-withdrawn.json"))
        connection.execute(
            update(t.device_models)
            .where(t.device_models.c.id == "pulse-band-2")
            .values(support_until=date(2020, 1, 31))
        )


def test_fleet_security_page_in_the_browser(served_hub: tuple[str, Hub], browser: Browser) -> None:
    base, hub = served_hub
    _findings(hub)
    page = browser.new_page()

    # A researcher reports a problem through the public form.
    page.goto(f"{base}/security/report")
    page.get_by_label("Summary (one line)").fill("Telnet open on the meter")
    page.get_by_label("Details: what, where, and how to see it").fill("Port 23 answers on meter-1.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator("#report-number")).to_have_text("1")

    # The console asks the operator to sign in.
    _sign_in(page, base, hub, "/console/security")
    expect(page.get_by_role("heading", level=1)).to_have_text("Fleet security")
    [cookie] = page.context.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    meter = page.locator('tr[data-device="meter-1"]')
    expect(meter).to_contain_text("0 days old")
    expect(page.locator('tr[data-device="thermostat-1"]')).to_contain_text("no credential")
    expect(page.locator("#refused + ul")).to_contain_text("mirai: 1")
    expect(page.get_by_role("region", name="Lockouts after failed sign-ins")).to_contain_text(
        "address 192.0.2.7"
    )
    advisory = page.locator('tr[data-advisory="WW-SA-2026-07"]')
    expect(advisory).to_contain_text("critical")
    expect(advisory).to_contain_text("meter-1 (wattwise-m2 firmware 2.4.0)")
    component = page.locator('tr[data-advisory="GT-2026-0107"]')
    expect(component).to_contain_text("meter-1 (component requests 2.30.0 of model wattwise-m2)")
    withdrawn = page.locator('tr[data-advisory="GT-2026-0103"]')
    expect(withdrawn).to_contain_text("withdrawn on 2026-11-03: affects nothing")
    expect(page.locator('tr[data-support="band-alex"]')).to_contain_text("past its support period")
    expect(page.locator('tr[data-support="meter-1"]')).not_to_contain_text("past its support")
    reports = page.get_by_role("region", name="Vulnerability reports")
    expect(reports).to_contain_text("Telnet open on the meter")
    expect(reports).to_contain_text("received")


def test_adding_a_device_from_the_console(served_hub: tuple[str, Hub], browser: Browser) -> None:
    base, hub = served_hub
    page = browser.new_page()
    _sign_in(page, base, hub, "/console/security")
    page.get_by_role("link", name="Add a device").click()
    page.get_by_label("Device id").fill("meter-7")
    page.get_by_label("Device model").select_option("wattwise-m2")
    page.get_by_label("Place").select_option("flat-4")
    page.get_by_role("button", name="Add the device").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Device meter-7 added")
    secret = page.locator("#credential").inner_text()
    assert secret.startswith("gtd_")
    expect(page.locator("figure svg")).to_be_visible()
    assert hub.tokens.device_for(secret) == "meter-7"
    assert '- id: "meter-7"' in hub.home.manifest_path.read_text()
    # The same id again is refused, saying why, and the form keeps what was typed.
    page.goto(f"{base}/console/devices/new")
    page.get_by_label("Device id").fill("meter-7")
    page.get_by_role("button", name="Add the device").click()
    expect(page.get_by_role("alert")).to_contain_text("already in the manifest")
    expect(page.get_by_label("Device id")).to_have_value("meter-7")
