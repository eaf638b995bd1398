"""The bench's history: one JSON line per run, and the change against the previous comparable run.

One run's figures say little on a shared machine; the same figures next to last week's show a
regression. Each run appends `{"at", "options", "figures", "loadavg"}` to a JSON Lines file
(default `$XDG_STATE_HOME/goodthings/bench-history.jsonl`, i.e. ~/.local/state/…), and is
compared with the newest earlier line whose options are the same: a different size of run, pack
size, database kind, soak or a profiled run give different figures by design. The database URL
itself is never written (it can hold a password); only its kind is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "bench-history.jsonl"

LOWER_IS_BETTER_SUFFIXES = ("_ms", "_mb", "_mb_2_workers", "quarantines")
"""Figures where a rise is a regression (delays, memory, false alarms); for the rest (rates,
ratios) a fall is."""


@dataclass(frozen=True)
class Change:
    figure: str
    before: float
    after: float

    @property
    def ratio(self) -> float | None:
        return self.after / self.before if self.before else None

    @property
    def worse(self) -> bool:
        lower_is_better = self.figure.endswith(LOWER_IS_BETTER_SUFFIXES)
        return self.after > self.before if lower_is_better else self.after < self.before

    def as_dict(self) -> dict[str, object]:
        ratio = self.ratio
        return {
            "before": self.before,
            "after": self.after,
            "ratio": None if ratio is None else round(ratio, 3),
        }

    def describe(self) -> str:
        ratio = self.ratio
        change = "new" if ratio is None else f"{(ratio - 1) * 100:+.1f} %"
        return f"{self.figure:<40} {self.before:>14,.1f} → {self.after:>14,.1f}  {change}"


@dataclass(frozen=True)
class Comparison:
    path: Path
    previous_at: str | None
    """When the previous run with the same options was; None for the first."""
    changes: tuple[Change, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "previous_at": self.previous_at,
            "changes": {change.figure: change.as_dict() for change in self.changes},
        }


def default_path() -> Path:
    """The user's state directory (XDG), where a history of runs belongs: not config, not
    cache (it must not be thrown away), not data the user made."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "goodthings" / FILE_NAME


def numeric_figures(report: dict[str, object]) -> dict[str, float]:
    """The report's numbers, nested ones (the soak's) as `soak.rss_growth_mb`, options left out."""
    figures: dict[str, float] = {}
    for key, value in report.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            figures[key] = float(value)
        elif isinstance(value, dict) and key != "machine":
            for inner, inner_value in numeric_figures(value).items():
                figures[f"{key}.{inner}"] = inner_value
    return figures


def record(
    path: Path, options: dict[str, object], report: dict[str, object], at: datetime | None = None
) -> Comparison:
    """Append this run to the history at `path`, then compare it with the newest earlier run
    of the same `options`."""
    previous = _previous(path, options)
    line = {
        "at": (at or datetime.now(UTC)).isoformat(timespec="seconds"),
        "options": options,
        "figures": report,
        "loadavg": _loadavg(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as history:
        history.write(json.dumps(line, sort_keys=True) + "\n")
    if previous is None:
        return Comparison(path, None, ())
    before = numeric_figures(_as_object(previous.get("figures")))
    after = numeric_figures(report)
    changes = tuple(
        Change(key, before[key], after[key])
        for key in after
        if key in before and key not in options
    )
    return Comparison(path, str(previous.get("at")), changes)


def _previous(path: Path, options: dict[str, object]) -> dict[str, object] | None:
    """The newest line with the same options; lines that are not JSON objects are skipped, so
    a line cut short by a crash does not lose the rest of the history."""
    if not path.exists():
        return None
    found: dict[str, object] | None = None
    for text in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(line, dict) and line.get("options") == options:
            found = line
    return found


def _as_object(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _loadavg() -> list[float] | None:
    """The machine's load average when the run ended: a figure means little without it."""
    try:
        return [float(part) for part in Path("/proc/loadavg").read_text().split()[:3]]
    except (OSError, ValueError):
        return None
