"""Long commands show a bar on a terminal and plain lines elsewhere, always on stderr's console."""

from __future__ import annotations

import io

from rich.console import Console

from goodthings.cli._progress import counted, phases, running

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
