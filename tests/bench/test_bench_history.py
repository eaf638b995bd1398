"""The bench's history: one line per run, compared with the previous run of the same options."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from goodthings.bench.history import default_path, numeric_figures, record
from goodthings.bench.runner import BenchOptions
from goodthings.cli.bench import history_options

OPTIONS: dict[str, object] = {"readings": 1000, "pack_size": 10, "database": "sqlite"}


def _report(http: float, rss: float) -> dict[str, object]:
    return {
        "readings": 1000,
        "pack_size": 10,
        "http_readings_per_s": http,
        "peak_rss_mb": rss,
        "false_quarantines": 0,
        "machine": {"cpu_cores": 2},
        "soak": {"rss_growth_mb": 1.5, "workers": [{"rss_end_mb": 99.0}]},
    }


def test_the_first_run_is_kept_and_has_nothing_to_compare_with(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "history.jsonl"
    comparison = record(path, OPTIONS, _report(20_000.0, 150.0))
    assert comparison.previous_at is None and comparison.changes == ()
    [line] = path.read_text().splitlines()
    kept = json.loads(line)
    assert kept["options"] == OPTIONS
    assert kept["figures"]["http_readings_per_s"] == 20_000.0
    assert len(kept["loadavg"]) == 3


def test_a_second_run_shows_each_figure_s_change_and_which_are_worse(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    record(path, OPTIONS, _report(20_000.0, 150.0), at=datetime(2026, 12, 1, tzinfo=UTC))
    record(path, {**OPTIONS, "readings": 5}, _report(1.0, 1.0))  # other options: not compared
    comparison = record(path, OPTIONS, _report(15_000.0, 120.0))
    assert comparison.previous_at == "2026-12-01T00:00:00+00:00"
    changes = {change.figure: change for change in comparison.changes}
    assert "readings" not in changes and "pack_size" not in changes, "options are not figures"
    assert "machine.cpu_cores" not in changes
    assert changes["http_readings_per_s"].ratio == pytest.approx(0.75)
    assert changes["http_readings_per_s"].worse, "a lower rate is a regression"
    assert not changes["peak_rss_mb"].worse, "less memory is not"
    assert changes["soak.rss_growth_mb"].before == 1.5
    assert "-25.0 %" in changes["http_readings_per_s"].describe()
    assert changes["false_quarantines"].ratio is None  # 0 before: no ratio, and no division
    assert len(path.read_text().splitlines()) == 3


def test_a_line_cut_short_by_a_crash_does_not_lose_the_history(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    record(path, OPTIONS, _report(20_000.0, 150.0))
    with path.open("a") as history:
        history.write('{"options": {"readings": 10')
    history_text = path.read_text()
    comparison = record(path, OPTIONS, _report(22_000.0, 150.0))
    assert comparison.previous_at is not None
    assert path.read_text().startswith(history_text)


def test_the_history_lives_in_the_user_s_state_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "goodthings" / "bench-history.jsonl"
    monkeypatch.delenv("XDG_STATE_HOME")
    assert default_path() == Path.home() / ".local" / "state" / "goodthings" / "bench-history.jsonl"


def test_the_history_names_the_database_s_kind_never_its_url() -> None:
    secret = "postgresql+psycopg://bench:s3cret@127.0.0.1/bench"
    options = history_options(BenchOptions(database_url=secret, profile=Path("/tmp/p")))
    assert options["database"] == "postgresql"
    assert options["profiled"] is True
    assert "s3cret" not in json.dumps(options)
    assert history_options(BenchOptions())["database"] == "sqlite"
    assert history_options(BenchOptions())["soak_rate"] is None, "no soak: its rate is no option"


def test_numeric_figures_flatten_nested_ones_and_leave_flags_out() -> None:
    figures = numeric_figures({"a": 1, "b": True, "soak": {"c": 2.5}, "machine": {"d": 3}})
    assert figures == {"a": 1.0, "soak.c": 2.5}
