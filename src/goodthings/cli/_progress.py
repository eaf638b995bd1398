"""Progress for long commands on stderr, drawn only when a person watches (stderr is a terminal).

stdout stays the command's result, so `--json` output is never mixed with a bar; without a
terminal (a log, a pipe, CI) each step is one plain line instead of a redrawn bar.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["counted", "phases", "running"]


@contextmanager
def phases(console: Console, names: Sequence[str]) -> Iterator[Callable[[str], None]]:
    """A bar over named phases, moved by messages "PHASE: what is happening now".

    A message whose phase is not in `names` (preparation, a phase's own sub-step) changes the
    text under the bar but not its count; each named phase counts as done when the next begins.
    """
    if not console.is_terminal:
        yield lambda message: console.print(message, markup=False)
        return
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("starting", total=len(names))
        seen: list[str] = []

        def say(message: str) -> None:
            phase = message.split(":", 1)[0]
            if phase in names and phase not in seen:
                seen.append(phase)
                progress.update(task, completed=len(seen) - 1)
            progress.update(task, description=message)

        yield say
        progress.update(task, completed=len(names), description="done")


@contextmanager
def counted(console: Console, what: str) -> Iterator[Callable[[int, int, str], None]]:
    """A bar over items counted by the work itself: `step(done, total, item)` before each item."""
    if not console.is_terminal:
        yield lambda done, total, item: None
        return
    columns = (
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(what, total=None)

        def step(done: int, total: int, item: str) -> None:
            progress.update(task, completed=done, total=total, description=f"{what}: {item}")

        yield step


@contextmanager
def running(console: Console, what: str) -> Iterator[Callable[[int], None]]:
    """A spinner with a running count, for work whose total is not known before it ends."""
    if not console.is_terminal:
        yield lambda count: None
        return
    with console.status(what) as status:
        yield lambda count: status.update(f"{what}: {count:,} so far")
