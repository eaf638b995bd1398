"""Every page the hub serves, in a real headless Chromium at a phone's width (375 px): nothing
scrolls sideways, every table still says what each value is, and axe-core finds nothing wrong.
The pages come from the app's own routes, so a new page fails here until it is visited.

Also: the API reference renders with every request off the machine blocked, and a person who
has never seen the hub can tell from the portal alone who used their data last week and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import iter_route_contexts
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from browsers import check, chromium, screenshots, served
from console_helpers import add_account, secret_of
from goodthings.core.config import Home
from goodthings.rights.access import Grant, ReadingsQuery, read_readings
from goodthings.rights.signin import issue_invite
from goodthings.runtime.hub import Hub
from goodthings.security import Role
from goodthings.transparency.notices import applied_manifest
from goodthings.transparency.reports import build_record, held_now, to_html
from goodthings.web.app import create_app
from portal_helpers import give, send
from templates import init_from_template

PHONE = {"width": 375, "height": 740}

# The routes that answer HTML to a GET, and where to find one page of each. Filled per example.
PAGES: dict[str, Callable[[Running], list[str]]] = {
    "/": lambda r: ["/"],
    "/docs": lambda r: ["/docs"],
    "/assessment": lambda r: ["/assessment"],
    "/notice": lambda r: ["/notice", "/notice?lang=fr"],
    "/notice/{kind}/{scope_id:path}": lambda r: r.scoped_notices,
    "/security/report": lambda r: ["/security/report"],
    "/console/login": lambda r: ["/console/login"],
    "/console/login/code": lambda r: [],  # visited while signing in, below
    "/console/security": lambda r: ["/console/security"],
    "/console/devices/new": lambda r: ["/console/devices/new"],
    "/portal/sign-in/{link}": lambda r: [r.invite()],
    "/portal": lambda r: ["/portal"],
    "/portal/history": lambda r: ["/portal/history"],
    "/portal/activity": lambda r: ["/portal/activity"],
    "/portal/export": lambda r: ["/portal/export"],
    "/portal/erase": lambda r: ["/portal/erase"],
}


def _walked_as_each_role(route: str) -> bool:
    """The console's pages behind sign-in: tests/web/test_console_browser.py visits each as
    every role, with axe-core and at phone width."""
    return route == "/console" or route.startswith("/console/")


PERSON = {"smart-home": "alex", "care-home": "grace", "city-street": None}


@dataclass
class Running:
    base: str
    app: FastAPI
    hub: Hub
    person: str | None

    @property
    def scoped_notices(self) -> list[str]:
        with self.hub.engine.connect() as connection:
            manifest = applied_manifest(connection)
        assert manifest is not None
        pages = [f"/notice/place/{place.id}" for place in manifest.places]
        pages += [f"/notice/device/{device.id}" for device in manifest.devices]
        model = manifest.device_models[0]
        pages.append(f"/notice/stream/{model.id}/{model.streams[0].name}")
        return pages

    def invite(self) -> str:
        subject = self.person or "nobody"
        if self.person is None:
            return "/portal/sign-in/not-a-real-link"
        with self.hub.engine.begin() as connection:
            made = issue_invite(connection, subject, self.base, timedelta(hours=1))
        return made.link.removeprefix(self.base)


def html_pages(app: FastAPI) -> set[str]:
    return {
        context.path
        for context in iter_route_contexts(app.routes)
        if "GET" in (context.methods or ())
        and getattr(context.route, "response_class", None) is HTMLResponse
    }


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as running:
        yield running


@pytest.fixture
def shots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return screenshots(tmp_path_factory, request)


def _served(tmp_path: Path, example: str) -> Iterator[Running]:
    home = Home(tmp_path / example)
    init_from_template(home, example)
    app = create_app(home)
    with served(app) as base:
        yield Running(base, app, app.state.hub, PERSON[example])


@pytest.fixture(params=sorted(PERSON))
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Running]:
    yield from _served(tmp_path, request.param)


@pytest.fixture
def smart_home_served(tmp_path: Path) -> Iterator[Running]:
    yield from _served(tmp_path, "smart-home")


def _phone(browser: Browser) -> BrowserContext:
    # bypass_csp lets axe-core's script in; the hub's own pages run none.
    return browser.new_context(viewport=PHONE, bypass_csp=True)


def fits_a_phone(page: Page, name: str) -> None:
    """No sideways scrolling, and every table cell still has its column's name in view."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} scrolls sideways at {PHONE['width']} px ({width} px)"
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('table')].flatMap(table => {
            const head = table.querySelector('thead');
            const shown = head && head.getBoundingClientRect().left >= 0
                && head.getBoundingClientRect().width > 0;
            if (!head || shown) return [];
            return [...table.querySelectorAll('tbody td')]
                .filter(td => !(td.dataset.label || '').trim())
                .map(td => td.outerHTML.slice(0, 80));
        })"""
    )
    assert not unlabelled, f"{name}: cells lose their column's name on a phone: {unlabelled[:3]}"


def _sign_in_to_the_console(page: Page, running: Running, shots: Path) -> None:
    add_account(running.hub, "pat", Role.operator)
    page.goto(f"{running.base}/console/login")
    page.get_by_label("Name").fill("pat")
    page.get_by_label("Password", exact=True).fill("correct horse battery staple 42")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{running.base}/console/login/code")
    fits_a_phone(page, "/console/login/code")
    check(page, shots, "console-login-code")
    shown = page.locator("#otpauth-uri")
    secret = pyotp.parse_uri(shown.inner_text()).secret if shown.count() else None
    secret = secret or secret_of(running.hub, "pat")
    page.get_by_label("The 6-digit code your app shows").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{running.base}/console")


def _some_use(running: Running) -> None:
    """Readings, a choice and an application's read, so the pages show their tables full."""
    if running.person != "alex":
        return
    give(running.hub, ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"))
    send(running.hub, "band-alex", "heart_rate", [61.0, 64.0, 62.5])
    grant = Grant("wellbeing", ("ServicePersonalisation",), time.time() + 300)
    query = ReadingsQuery("heart_rate", "ServicePersonalisation")
    read_readings(running.hub.engine, running.hub.keyring, running.hub.signer, grant, query)


def test_every_page_fits_a_phone_and_passes_axe(
    running: Running, browser: Browser, shots: Path
) -> None:
    ours = {p for p in html_pages(running.app) if p in PAGES or not _walked_as_each_role(p)}
    assert ours == PAGES.keys(), "give each new page a URL in PAGES"
    _some_use(running)
    context = _phone(browser)
    page = context.new_page()
    visited = 0
    for route, urls in PAGES.items():
        if route.startswith("/console"):
            continue
        for url in urls(running):
            page.goto(running.base + url)
            if url.startswith("/portal/sign-in/") and running.person:
                check(page, shots, "sign-in-link")
                page.get_by_role("button", name="Sign in").click()
                expect(page.get_by_role("heading", level=1)).to_contain_text("What we collect")
            name = url.strip("/").replace("/", "-").replace("?", "-") or "home"
            fits_a_phone(page, url)
            if url != "/docs":  # Swagger UI is checked for what it shows, in the test below
                check(page, shots, name)
            visited += 1
    _sign_in_to_the_console(page, running, shots)
    for url in ("/console/security", "/console/devices/new"):
        page.goto(running.base + url)
        fits_a_phone(page, url)
        check(page, shots, url.strip("/").replace("/", "-"))
        visited += 1
    context.close()
    assert visited >= len(PAGES) - 1


def test_the_processing_report_fits_a_phone(
    running: Running, browser: Browser, shots: Path, tmp_path: Path
) -> None:
    with running.hub.engine.connect() as connection:
        manifest = applied_manifest(connection)
        held = held_now(connection)
    assert manifest is not None
    report = tmp_path / "processing.html"
    report.write_text(to_html(build_record(manifest, held, "SQLite")), encoding="utf-8")
    context = _phone(browser)
    page = context.new_page()
    page.goto(report.as_uri())
    fits_a_phone(page, "the processing report")
    check(page, shots, "processing-report")
    context.close()


def test_the_api_reference_renders_with_nothing_fetched_from_elsewhere(
    smart_home_served: Running, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.goto(smart_home_served.base + "/docs")
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/readings")
    expect(operation.first).to_be_visible()
    assert page.locator(".opblock").count() >= 5
    assert blocked == [], f"/docs asked other hosts for {blocked}"
    context.close()


def test_a_newcomer_can_tell_who_used_their_data_last_week_and_why(
    smart_home_served: Running, browser: Browser, shots: Path
) -> None:
    hub = smart_home_served.hub
    give(hub, ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"))
    assert send(hub, "band-alex", "heart_rate", [58.0, 59.5, 61.0, 60.0]) == 4
    grant = Grant("wellbeing", ("ServicePersonalisation",), time.time() + 300)
    query = ReadingsQuery("heart_rate", "ServicePersonalisation")
    read_readings(hub.engine, hub.keyring, hub.signer, grant, query)
    context = _phone(browser)
    page = context.new_page()
    page.goto(smart_home_served.base + smart_home_served.invite())
    page.get_by_role("button", name="Sign in").click()
    # Only what a person sees: the link's words, the table's headings and cells.
    page.get_by_role("link", name="Who used your data").click()
    table = page.get_by_role("table", name="Who used your readings")
    row = table.get_by_role("row").filter(has_text="Wellbeing app")
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell").nth(0)).to_have_text("Wellbeing app")
    expect(row.get_by_role("cell").nth(2)).to_have_text("to adjust the service to suit you")
    expect(row.get_by_role("cell").nth(3)).to_have_text("4")
    expect(page.get_by_text("Nobody used your readings")).to_have_count(0)
    check(page, shots, "who-used-my-data")
    context.close()


def test_objecting_in_the_browser_stops_the_applications_read(
    smart_home_served: Running, browser: Browser, shots: Path
) -> None:
    hub = smart_home_served.hub
    give(hub, ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"))
    send(hub, "band-alex", "heart_rate", [70.0, 72.0])
    grant = Grant("wellbeing", ("ServicePersonalisation",), time.time() + 300)
    query = ReadingsQuery("heart_rate", "ServicePersonalisation")

    def read() -> int:
        return len(read_readings(hub.engine, hub.keyring, hub.signer, grant, query).readings)

    assert read() == 2
    context = _phone(browser)
    page = context.new_page()
    page.goto(smart_home_served.base + smart_home_served.invite())
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="I object: your heart rate, measured by the wristband").click()
    expect(page.get_by_role("button", name="Take back my objection").first).to_be_visible()
    check(page, shots, "objected")
    assert read() == 0
    context.close()
