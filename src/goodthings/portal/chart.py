"""A small line chart as inline SVG, drawn on the server: no script, readable by screen readers."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from goodthings.portal.view import Reading

WIDTH, HEIGHT, PAD = 320, 90, 6


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return None


def sparkline(readings: Sequence[Reading], title: str, unit: str | None) -> Markup:
    """The readings as a line; an empty string when fewer than two are numbers."""
    points = [
        (r.time.timestamp(), v)
        for r in readings
        if r.time is not None and (v := _number(r.value)) is not None
    ]
    if len(points) < 2:
        return Markup("")
    times = [p[0] for p in points]
    values = [p[1] for p in points]
    t0, t1 = min(times), max(times)
    low, high = min(values), max(values)
    span_t = (t1 - t0) or 1.0
    span_v = (high - low) or 1.0

    def x(moment: float) -> float:
        return PAD + (moment - t0) / span_t * (WIDTH - 2 * PAD)

    def y(value: float) -> float:
        return HEIGHT - PAD - (value - low) / span_v * (HEIGHT - 2 * PAD)

    path = " ".join(f"{x(m):.1f},{y(v):.1f}" for m, v in points)
    suffix = f" {unit}" if unit else ""
    summary = (
        f"{title}: {len(points)} readings from {low:g}{suffix} to {high:g}{suffix}, "
        f"latest {values[-1]:g}{suffix}"
    )
    # Every value below is a number or escaped.
    return Markup(  # noqa: S704
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(summary)}" focusable="false">'
        f"<title>{escape(summary)}</title>"
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f4f7fb"/>'
        f'<polyline fill="none" stroke="#0b5394" stroke-width="2" points="{path}"/>'
        "</svg>"
    )
