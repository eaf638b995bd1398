"""Debian's Chromium driven by Playwright, and the hub's app served by a real uvicorn.

Installed if missing (Debian's `chromium` package), never skipped: the page tests are how we
know the pages work for people.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import axe_playwright_python
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright

from debian import apt_install

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


AXE = Path(axe_playwright_python.__file__).parent / "axe.min.js"


def install_chromium() -> Path:
    """Install Debian's package when it is not there, as a fresh machine needs."""
    if not CHROMIUM.exists():
        apt_install("chromium")
    if not CHROMIUM.exists():
        raise RuntimeError(f"`apt-get install chromium` ran but {CHROMIUM} is still missing")
    return CHROMIUM


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(install_chromium()), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """`app` on a free loopback port, lifespan included; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def screenshots(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """Where a test's screenshots go: $GOODTHINGS_SCREENSHOTS, else pytest's temporary tree."""
    root = os.environ.get("GOODTHINGS_SCREENSHOTS")
    base = Path(root) if root else tmp_path_factory.mktemp("screenshots")
    folder = base / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check(page: Page, shots: Path, name: str) -> None:
    """Screenshot the page and fail on any accessibility violation axe-core finds."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})"
    )
    problems = [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} times, e.g. {v['nodes'][0]['html'][:120]})"
        for v in result["violations"]
    ]
    assert not problems, f"{name}: " + "; ".join(problems)
    assert result["passes"], "axe ran no checks"
