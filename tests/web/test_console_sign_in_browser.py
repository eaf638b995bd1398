"""Signing in to the console in a real headless Chromium: name and one-time password, then a
password of one's own and an authenticator app enrolled from the QR code's URI, confirmed by a
code pyotp computes; axe-core finds nothing wrong with either step."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from browsers import check, chromium, screenshots, served
from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from goodthings.security import Role, operators
from goodthings.web.app import create_app
from templates import init_from_template

OWN_PASSWORD = "lantern orchard velvet 1987 quay"


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


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return screenshots(tmp_path_factory, request)


def _code(secret: str) -> str:
    """The next step's code: accepted one step ahead, and newer than any used before."""
    return pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))


def _password_step(page: Page, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/console/security")
    expect(page).to_have_url(f"{base}/console/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Continue").click()


def test_first_sign_in_enrols_an_authenticator_app(
    served_hub: tuple[str, Hub], browser: Browser, shots: Path
) -> None:
    base, hub = served_hub
    with hub.engine.begin() as connection:
        one_time = operators.add(connection, hub.signer, "olu", Role.operator, None)
    assert one_time is not None
    # bypass_csp lets axe-core's script in; the pages themselves run none.
    page = browser.new_context(bypass_csp=True).new_page()

    page.goto(f"{base}/console/login")
    check(page, shots, "01-console-sign-in")
    _password_step(page, base, "olu", "not the password")
    expect(page.get_by_role("alert")).to_contain_text("do not match")

    _password_step(page, base, "olu", one_time)
    expect(page).to_have_url(f"{base}/console/login/code")
    uri = page.locator("#otpauth-uri").inner_text()
    assert uri.startswith("otpauth://totp/goodthings:olu?")
    expect(page.locator("figure svg")).to_be_visible()
    check(page, shots, "02-console-enrol")
    secret = pyotp.parse_uri(uri).secret

    page.get_by_label("Your new password").fill(OWN_PASSWORD)
    page.get_by_label("The 6-digit code your app shows").fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")

    page.get_by_label("Your new password").fill(OWN_PASSWORD)
    code = _code(secret)
    page.get_by_label("The 6-digit code your app shows").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/console")
    expect(page.locator("#signed-in-as")).to_have_text("olu")
    [cookie] = page.context.cookies()
    assert cookie["name"] == "gt_console" and cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert cookie["value"] != hub.operator_token

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{base}/console/login")

    # The one-time password is spent; the person's own works, and the same code does not.
    _password_step(page, base, "olu", one_time)
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    _password_step(page, base, "olu", OWN_PASSWORD)
    expect(page.get_by_label("Your new password")).to_have_count(0)
    expect(page.locator("#otpauth-uri")).to_have_count(0)
    check(page, shots, "03-console-code")
    page.get_by_label("The 6-digit code your app shows").fill(code)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("not right, or was used")
    expect(page).to_have_url(f"{base}/console/login/code")
