"""Every console page in a real headless Chromium, as each role: axe-core finds nothing wrong,
the page fits a 375 px phone without sideways scrolling, and a role's forbidden pages answer 403
with a plain message. With GOODTHINGS_SCREENSHOTS=DIR the screenshots docs/console.md shows are
saved there (`make` copies none: pick a few into docs/images/console/)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import update

from browsers import check, chromium, screenshots, served
from console_helpers import PASSWORD, add_account, next_code, secret_of
from goodthings.cli import main
from goodthings.core.config import Home
from goodthings.core.store import RefusedPack, record_refused
from goodthings.core.store import tables as t
from goodthings.rights.erasure import request_erasure
from goodthings.runtime.hub import Hub
from goodthings.security import Role
from goodthings.web.app import create_app
from portal_helpers import give, send
from templates import init_from_template

PAGES = {
    "dashboard": ("/console", set(Role)),
    "devices": ("/console/devices", {Role.operator, Role.auditor}),
    "device": ("/console/devices/meter-1", {Role.operator, Role.auditor}),
    "device-retire": ("/console/devices/meter-1/retire", {Role.operator}),
    "fleet-security": ("/console/security", set(Role)),
    "requests": ("/console/requests", {Role.dpo}),
    "ledger": ("/console/ledger?verify=true", {Role.dpo, Role.auditor}),
    "streams": ("/console/streams", set(Role)),
    "applications": ("/console/applications", {Role.operator, Role.auditor}),
    "manifest": ("/console/manifest", {Role.operator, Role.auditor}),
    "assessment": ("/console/assessment", set(Role)),
}
NAMES = {Role.operator: "olu", Role.dpo: "dana", Role.auditor: "audrey"}
PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def served_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Hub]]:
    root = tmp_path_factory.mktemp("console")
    home = Home(root / "deployment")
    init_from_template(home, "smart-home")
    app = create_app(home)
    hub: Hub = app.state.hub
    give(hub, ("alex", "power", "OptimisationForConsumer"))
    send(hub, "meter-1", "power", [512.5, 498.25, 501.0, 499.0])
    with hub.engine.begin() as connection:
        pack = RefusedPack(
            "meter-1", 1.0, "malformed", "not SenML", "application/json", 3, "0" * 64
        )
        record_refused(connection, [pack], keep=100)
    request_erasure(hub.engine, hub.signer, "sam", method="letter")
    _assess(home)
    with hub.engine.begin() as connection:  # a failure for the assessment page to show
        personal = t.streams.c.personal.is_(True)
        connection.execute(update(t.streams).where(personal).values(retention_seconds=None))
    _assess(home)
    for role, name in NAMES.items():
        add_account(hub, name, role)
    with served(app) as base:
        yield base, hub


def _assess(home: Home) -> None:
    """The real `goodthings assess`, which exits 1 once a control fails."""
    with suppress(SystemExit):
        main(["assess", "--home", str(home.root)])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return screenshots(tmp_path_factory, request)


def _sign_in(page: Page, base: str, hub: Hub, name: str) -> None:
    page.goto(f"{base}/console/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("The 6-digit code your app shows").fill(next_code(secret_of(hub, name)))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/console")


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide on a 375 px phone"


@pytest.mark.parametrize("role", list(Role))
def test_every_console_page_as_each_role(
    served_hub: tuple[str, Hub], browser: Browser, shots: Path, role: Role
) -> None:
    base, hub = served_hub
    context = browser.new_context(bypass_csp=True)  # lets axe-core in; the pages run no script
    page = context.new_page()
    _sign_in(page, base, hub, NAMES[role])
    phone = browser.new_context(bypass_csp=True, viewport=PHONE).new_page()
    phone.context.add_cookies(context.cookies())
    for name, (path, roles) in PAGES.items():
        answer = page.goto(f"{base}{path}")
        assert answer is not None
        if role not in roles:
            assert answer.status == 403, path
            expect(page.get_by_role("alert")).to_contain_text(f"({role.value}): this needs")
            continue
        assert answer.status == 200, path
        expect(page.locator("#signed-in-as")).to_have_text(NAMES[role])
        check(page, shots, f"{role.value}-{name}")
        phone.goto(f"{base}{path}")
        _fits(phone)
        check(phone, shots, f"{role.value}-{name}-phone")
    context.close()
    phone.context.close()


def test_the_dashboard_and_the_ledger_read_as_they_should(
    served_hub: tuple[str, Hub], browser: Browser
) -> None:
    base, hub = served_hub
    page = browser.new_page()
    _sign_in(page, base, hub, "dana")
    chart = page.get_by_role("img", name="Readings per minute, last hour")
    expect(chart).to_be_visible()
    expect(page.locator("#reporting-count")).to_have_text("1")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Ledger").click()
    page.get_by_role("button", name="Verify the whole ledger now").click()
    expect(page.locator("#verdict")).to_contain_text("The ledger is intact")
    page.get_by_label("Who (e.g.").fill("operator:dana")
    page.get_by_role("button", name="Show").click()
    rows = page.locator("#entries-table tbody tr")
    expect(rows.first).to_contain_text("console.sign_in")
    assert all("operator:dana" in row for row in rows.all_inner_texts())


def test_the_operators_actions_on_a_phone(
    served_hub: tuple[str, Hub], browser: Browser, shots: Path
) -> None:
    """Rotate, certify and retire through their confirming pages at 375 px: every page on the
    way, the secrets shown once included, passes axe-core and fits the screen."""
    base, hub = served_hub
    page = browser.new_context(bypass_csp=True, viewport=PHONE).new_page()
    _sign_in(page, base, hub, "olu")
    page.get_by_role("link", name="Devices").click()
    page.get_by_role("link", name="thermostat-1").click()
    page.get_by_role("link", name="Rotate the credential").click()
    _fits(page)
    check(page, shots, "operator-rotate-confirm")
    page.get_by_role("button", name="Rotate the credential").click()
    expect(page.locator("#credential")).to_have_text(re.compile(r"^\S{20,}$"))
    _fits(page)
    check(page, shots, "operator-rotate-done")
    page.goto(f"{base}/console/devices/thermostat-1/certificate")
    page.get_by_role("button", name="Issue a certificate").click()
    expect(page.locator("#private-key")).to_contain_text("PRIVATE KEY")
    _fits(page)
    check(page, shots, "operator-certificate")
    page.goto(f"{base}/console/devices/front-door/retire")
    page.get_by_role("button", name="Retire the device").click()
    expect(page.get_by_role("status")).to_contain_text("no longer in the manifest")
    _fits(page)
    check(page, shots, "operator-retired")
    page.goto(f"{base}/console/devices/new")
    _fits(page)
    check(page, shots, "operator-device-new")
    page.goto(f"{base}/console/requests")
    _fits(page)
    check(page, shots, "operator-refused")


def test_the_dashboards_assessment_card_stands_out_and_leads_to_the_page(
    served_hub: tuple[str, Hub], browser: Browser
) -> None:
    base, hub = served_hub
    page = browser.new_page()
    _sign_in(page, base, hub, "audrey")
    card = page.locator("#assessment-card")
    expect(card).to_have_class(re.compile(r"\blate\b"))  # a control fails
    expect(card).to_contain_text("not met")
    card.get_by_role("link", name="The assessment in detail").click()
    expect(page.locator("#worse-list")).to_contain_text("(etsi-6-4): was pass, now fail")
    expect(page.locator("[data-provision='etsi-6-4']")).to_contain_text("wattwise-m2/power")
