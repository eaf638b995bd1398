"""The console's bar charts: an axis with a round top and units, labels escaped, a description
a screen reader can read."""

from __future__ import annotations

import re

import pytest

from goodthings.console import Bar, bar_chart


@pytest.mark.parametrize(
    ("highest", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (120, 200), (501, 1000)]
)
def test_the_value_axis_ends_at_a_round_number(highest: int, top: int) -> None:
    svg = bar_chart([Bar("a", highest)], title="T", unit="readings", axis="minute")
    assert re.search(rf'text-anchor="end">{top}</text>', svg)


def test_a_chart_names_its_units_and_describes_itself() -> None:
    bars = [Bar(f"10:{m:02d}", m % 3) for m in range(10)]
    svg = bar_chart(bars, title="Readings per minute", unit="readings", axis="minute (UTC)")
    assert 'role="img"' in svg and "<title id=" in svg
    assert "Readings per minute: 9 readings in all, at most 2 in one minute (UTC)." in svg
    assert ">readings</text>" in svg and ">minute (UTC)</text>" in svg
    assert svg.count("<rect") == 10
    shown = re.findall(r'class="tick"[^>]*text-anchor="(start|middle|end)">(10:\d\d)<', svg)
    assert [label for _, label in shown] == ["10:00", "10:05", "10:09"]
    assert [anchor for anchor, _ in shown] == ["start", "middle", "end"]


def test_text_in_a_chart_is_escaped() -> None:
    svg = bar_chart([Bar("<b>", 1)], title="a & b", unit="<u>", axis="x")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a &amp; b" in svg
