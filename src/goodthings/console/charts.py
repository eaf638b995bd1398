"""Small bar charts as inline SVG, drawn on the server: axes with units, a title and a
description for screen readers, and no script, so a page works without JavaScript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 340, 150
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 10, 34


@dataclass(frozen=True)
class Bar:
    label: str
    """Shown under the bar when there is room (first, middle and last otherwise)."""
    value: int


def _nice_top(highest: int) -> int:
    """A round number at or above `highest` for the value axis: 1, 2, 5, 10, 20, 50, ..."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if magnitude * factor >= highest:
                return magnitude * factor
        magnitude *= 10


def bar_chart(bars: Sequence[Bar], *, title: str, unit: str, axis: str) -> Markup:
    """`bars` drawn left to right; `unit` names the value axis, `axis` the category axis."""
    top = _nice_top(max((bar.value for bar in bars), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    total = sum(bar.value for bar in bars)
    description = f"{title}: {total} {unit} in all" + (
        f", at most {max(bar.value for bar in bars)} in one {axis}." if bars else "."
    )
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{_id(title)}-t {_id(title)}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_id(title)}-t">{escape(title)}</title>',
        f'<desc id="{_id(title)}-d">{escape(description)}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end">0</text>',
        f'<text class="unit" x="4" y="{TOP + plot_h / 2}" '
        f'transform="rotate(-90 10 {TOP + plot_h / 2})" text-anchor="middle">{escape(unit)}</text>',
        f'<text class="unit" x="{LEFT + plot_w / 2}" y="{HEIGHT - 2}" '
        f'text-anchor="middle">{escape(axis)}</text>',
    ]
    shown = {0, len(bars) // 2, len(bars) - 1} if len(bars) > 6 else set(range(len(bars)))
    for index, bar in enumerate(bars):
        height = bar.value / top * plot_h
        x = LEFT + index * slot
        parts.append(
            f'<rect class="bar" x="{x + slot * 0.1:.1f}" y="{TOP + plot_h - height:.1f}" '
            f'width="{slot * 0.8:.1f}" height="{height:.1f}">'
            f"<title>{escape(bar.label)}: {bar.value} {escape(unit)}</title></rect>"
        )
        if index in shown:
            # The first and last labels hang inwards, so neither is cut at the chart's edge.
            anchor = "start" if index == 0 else "end" if index == len(bars) - 1 else "middle"
            at = x if index == 0 else x + slot if index == len(bars) - 1 else x + slot / 2
            parts.append(
                f'<text class="tick" x="{at:.1f}" y="{TOP + plot_h + 12}" '
                f'text-anchor="{anchor}">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)


def _id(title: str) -> str:
    return "chart-" + "".join(ch if ch.isalnum() else "-" for ch in title.lower())
