"""A small line chart as inline SVG, drawn on the server: no script, readable by screen readers.

It has what a chart needs to be read without guessing: a value axis with its lowest and highest
value in the stream's unit, a time axis with the first and last moment (UTC), and the same facts
in words as its accessible name. Yes/no streams are drawn as steps between their two words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from babel.dates import format_datetime
from markupsafe import Markup, escape

from goodthings.portal.i18n import translations
from goodthings.portal.view import Reading
from goodthings.portal.words import value_words

WIDTH, HEIGHT = 340, 150
LEFT, RIGHT, TOP, BOTTOM = 96, 10, 10, 40
"""Room for the value labels on the left and the time labels below."""
INK, LINE, PAPER = "#1b1b1b", "#0b5394", "#f4f7fb"


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def _moment(seconds: float, language: str) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return format_datetime(moment, "dd MMM HH:mm", tzinfo=UTC, locale=language)


def sparkline(
    readings: Sequence[Reading],
    title: str,
    unit: str | None,
    stream: str = "",
    language: str = "en",
) -> Markup:
    """The readings as a line, its labels and words in `language`; an empty string when fewer
    than two are numbers."""
    say = translations(language).gettext
    points = [
        (r.time.timestamp(), v, r.value)
        for r in readings
        if r.time is not None and (v := _number(r.value)) is not None
    ]
    if len(points) < 2:
        return Markup("")
    yes_no = all(isinstance(p[2], bool) for p in points)
    times = [p[0] for p in points]
    values = [p[1] for p in points]
    t0, t1 = min(times), max(times)
    low, high = (0.0, 1.0) if yes_no else (min(values), max(values))
    span_t = (t1 - t0) or 1.0
    span_v = (high - low) or 1.0

    def words(value: float) -> str:
        return value_words(bool(value) if yes_no else value, stream, unit, language)

    def x(moment: float) -> float:
        return LEFT + (moment - t0) / span_t * (WIDTH - LEFT - RIGHT)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (value - low) / span_v * (HEIGHT - TOP - BOTTOM)

    if yes_no:  # hold each state until the next reading
        steps = [points[0][:2]]
        for moment, value, _ in points[1:]:
            steps += [(moment, steps[-1][1]), (moment, value)]
        drawn = steps
    else:
        drawn = [(m, v) for m, v, _ in points]
    path = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in drawn)
    first, last = _moment(t0, language), _moment(t1, language)
    facts = {"count": len(points), "first": first, "last": last, "latest": words(values[-1])}
    if yes_no:
        said = say("%(count)d readings from %(first)s to %(last)s UTC, latest %(latest)s")
    else:
        said = say(
            "%(count)d readings from %(first)s to %(last)s UTC, between %(low)s and %(high)s, "
            "latest %(latest)s"
        )
        facts |= {"low": words(low), "high": words(high)}
    summary = f"{title}: {said % facts}"
    base, top, right = HEIGHT - BOTTOM, TOP, WIDTH - RIGHT
    text = f'font-size="11" fill="{INK}" font-family="system-ui, sans-serif"'
    # Every value below is a number or escaped.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(summary)}" focusable="false">'
        f"<title>{escape(summary)}</title>"
        f'<rect x="{LEFT}" y="{top}" width="{right - LEFT}" height="{base - top}" fill="{PAPER}"/>'
        f'<path d="M{LEFT},{top} V{base} H{right}" fill="none" stroke="{INK}" stroke-width="1"/>'
        f'<text x="{LEFT - 4}" y="{y(high) + 4:.1f}" text-anchor="end" {text}>{escape(words(high))}</text>'
        f'<text x="{LEFT - 4}" y="{y(low) + 4:.1f}" text-anchor="end" {text}>{escape(words(low))}</text>'
        f'<text x="{LEFT}" y="{base + 14}" {text}>{first}</text>'
        f'<text x="{right}" y="{base + 14}" text-anchor="end" {text}>{last}</text>'
        f'<text x="{(LEFT + right) / 2:.0f}" y="{base + 30}" text-anchor="middle" {text}>{escape(say("time (UTC)"))}</text>'
        f'<polyline fill="none" stroke="{LINE}" stroke-width="2" points="{path}"/>'
        "</svg>"
    )
