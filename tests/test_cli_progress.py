"""Long commands show a bar on a terminal and plain lines elsewhere, always on stderr's console."""

from __future__ import annotations

import io

from rich.console import Console

from goodthings.cli._progress import counted, phases, running
from goodthings.rights.erasure import erase_subject
from goodthings.runtime.hub import Hub
from goodthings.security import store_advisories
from goodthings.security.advisories.model import Advisory
from portal_helpers import give, send

NAMES = ("raw", "http", "erasure")
MESSAGES = ("Preparing", "raw: inserting", "http: starting", "http: 10 packs", "erasure: done")


def test_on_a_terminal_the_bar_counts_every_phase() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with phases(console, NAMES) as say:
        for message in MESSAGES:
            say(message)
    drawn = screen.getvalue()
    assert "\x1b[" in drawn
    assert "3/3" in drawn


def test_without_a_terminal_each_message_is_one_plain_line() -> None:
    log = io.StringIO()
    console = Console(file=log, force_terminal=False, width=100)
    with phases(console, NAMES) as say:
        for message in MESSAGES:
            say(message)
    assert log.getvalue().splitlines() == list(MESSAGES)


def test_a_counted_bar_follows_the_works_own_count() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with counted(console, "Purging") as step:
        step(0, 2, "a/x")
        step(1, 2, "b/y")
    assert "Purging: b/y" in screen.getvalue()


def test_a_counted_bar_without_a_terminal_prints_nothing() -> None:
    log = io.StringIO()
    with counted(Console(file=log, force_terminal=False), "Purging") as step:
        step(0, 1, "a/x")
    assert log.getvalue() == ""


def test_a_running_count_shows_on_a_terminal_only() -> None:
    screen, log = io.StringIO(), io.StringIO()
    with running(Console(file=screen, force_terminal=True, width=100), "Exporting") as watch:
        watch(1200)
    with running(Console(file=log, force_terminal=False), "Exporting") as watch:
        watch(1200)
    assert "Exporting" in screen.getvalue()
    assert log.getvalue() == ""


def test_an_erasure_counts_the_readings_it_purges(smart_home: Hub) -> None:
    hub = smart_home
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    assert send(hub, "band-alex", "heart_rate", [171.4, 183.2, 166.7]) == 3
    seen: list[tuple[int, int]] = []
    erase_subject(
        hub.engine,
        hub.keyring,
        hub.signer,
        "alex",
        step=lambda done, total, _what: seen.append((done, total)),
    )
    assert seen[0] == (0, 3)
    assert seen[-1] == (3, 3)


def test_an_advisory_import_counts_the_records_it_stores(smart_home: Hub) -> None:
    advisories = [
        Advisory(id=f"OSV-{n}", format="osv", summary="x", severity="low", url=None, ranges=())
        for n in range(3)
    ]
    seen: list[tuple[int, int, str]] = []
    with smart_home.engine.begin() as connection:
        store_advisories(connection, advisories, step=lambda *args: seen.append(args))
    assert [done for done, _total, _id in seen] == [0, 1, 2, 3]
    assert seen[1] == (1, 3, "OSV-1")
