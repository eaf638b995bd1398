"""A sign as SVG or PDF: one A4 page laid out once, drawn by two small backends.

Positions are in millimetres from the top left. The PDF uses the built-in Helvetica, so text is
reduced to Latin-1 (typographic quotes and dashes become plain ones) to print anywhere.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from xml.sax.saxutils import escape

from goodthings.transparency.pdf import a4_document, latin1
from goodthings.transparency.signs.content import Sign
from goodthings.transparency.signs.icons import Icon

WIDTH, HEIGHT = 210.0, 297.0
INK, ACCENT, PAPER = "#1b1b1b", "#0b5394", "#ffffff"
QR_SIZE = 62.0


@dataclass(frozen=True)
class _Text:
    x: float
    y: float
    size: float
    """Font size in millimetres (cap height about 0.7 of it)."""
    text: str
    bold: bool = False
    colour: str = INK


@dataclass(frozen=True)
class _Layout:
    texts: tuple[_Text, ...]
    icons: tuple[tuple[Icon, float, float, float], ...]
    """(icon, x, y, size)."""
    qr: tuple[float, float, float]
    """(x, y, module size)."""


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width) or [""]


def layout(sign: Sign) -> _Layout:
    texts: list[_Text] = [
        _Text(15, 16, 7, "Sensors in use here", colour=PAPER),
        _Text(15, 31, 9, sign.place, bold=True, colour=PAPER),
    ]
    y = 52.0
    for line in _wrap(sign.where, 80):
        texts.append(_Text(15, y, 4.2, line))
        y += 6
    y += 2
    for line in _wrap(f"Run by {sign.operator}. Responsible: {sign.accountable}.", 72):
        texts.append(_Text(15, y, 4.6, line))
        y += 6.5
    texts.append(_Text(15, y, 4.6, f"Questions about your data: {sign.contact}", bold=True))
    y += 13
    icons: list[tuple[Icon, float, float, float]] = []
    rows = len(sign.data) + len(sign.purposes)
    step = max(9.0, min(14.0, (HEIGHT - QR_SIZE - 40 - y) / max(rows, 1)))
    size = step - 3
    texts.append(_Text(15, y, 6, "What they collect", bold=True))
    y += 5
    for row in sign.data:
        icons.append((row.icon, 15, y, size))
        detail = f"about people, kept {row.kept}" if row.personal else "not about people"
        texts.append(_Text(20 + size, y + size * 0.45, 4.6, row.what, bold=True))
        texts.append(_Text(20 + size, y + size * 0.45 + 5, 4, f"{row.icon.label}; {detail}"))
        y += step
    y += 6
    texts.append(_Text(15, y, 6, "Why", bold=True))
    y += 5
    for purpose in sign.purposes:
        icons.append((purpose.icon, 15, y, size))
        texts.append(_Text(20 + size, y + size * 0.6, 4.6, purpose.why))
        y += step
    qr_y = HEIGHT - QR_SIZE - 14
    module = QR_SIZE / len(sign.qr)
    lines = _wrap(
        "Scan the code to read the full notice: what is collected, why, who gets it, how long "
        "it is kept, what can be worked out, and your choices.",
        46,
    )
    text_x = 15 + QR_SIZE + 8
    for index, line in enumerate(lines):
        texts.append(_Text(text_x, qr_y + 10 + index * 6, 4.4, line))
    url_lines = [sign.url[i : i + 44] for i in range(0, len(sign.url), 44)]
    for index, line in enumerate(url_lines):
        y_url = qr_y + 14 + (len(lines) + index) * 5
        texts.append(_Text(text_x, y_url, 3.6, line, bold=True, colour=ACCENT))
    texts.append(
        _Text(15, HEIGHT - 6, 3, f"Notice version {sign.notice_hash[:16]}", colour="#4a4a4a")
    )
    return _Layout(tuple(texts), tuple(icons), (15, qr_y, module))


def _svg_icon(icon: Icon, x: float, y: float, size: float) -> str:
    scale = size / 24
    parts = [
        f'<g transform="translate({x:.2f} {y:.2f}) scale({scale:.4f})" fill="none" '
        f'stroke="{ACCENT}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">'
        f"<title>{escape(icon.label)}</title>"
    ]
    for kind, values in icon.shapes:
        if kind == "circle":
            parts.append(f'<circle cx="{values[0]}" cy="{values[1]}" r="{values[2]}"/>')
        elif kind == "rect":
            parts.append(
                f'<rect x="{values[0]}" y="{values[1]}" width="{values[2]}" height="{values[3]}"/>'
            )
        else:
            points = " ".join(f"{values[i]},{values[i + 1]}" for i in range(0, len(values), 2))
            parts.append(f'<polyline points="{points}"/>')
    parts.append("</g>")
    return "".join(parts)


def to_svg(sign: Sign) -> str:
    """The sign as a standalone SVG document, A4, with a title for screen readers."""
    plan = layout(sign)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}mm" height="{HEIGHT}mm" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="sign-title">',
        f'<title id="sign-title">Sensors in use here: {escape(sign.place)}</title>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{PAPER}"/>',
        f'<rect width="{WIDTH}" height="40" fill="{ACCENT}"/>',
    ]
    for text in plan.texts:
        weight = ' font-weight="bold"' if text.bold else ""
        out.append(
            f'<text x="{text.x}" y="{text.y:.2f}" font-family="Helvetica, Arial, sans-serif" '
            f'font-size="{text.size}" fill="{text.colour}"{weight}>{escape(text.text)}</text>'
        )
    for icon, x, y, size in plan.icons:
        out.append(_svg_icon(icon, x, y, size))
    qx, qy, module = plan.qr
    path = "".join(
        f"M{qx + col * module:.3f} {qy + row * module:.3f}h{module:.3f}v{module:.3f}h-{module:.3f}z"
        for row, line in enumerate(sign.qr)
        for col, dark in enumerate(line)
        if dark
    )
    out.append(
        f'<a href="{escape(sign.url)}"><path d="{path}" fill="#000000"><title>QR code: {escape(sign.url)}</title></path></a>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def to_pdf(sign: Sign) -> bytes:
    """The sign as a one-page A4 PDF."""
    plan = layout(sign)
    pdf = a4_document(f"Sensors in use here: {sign.place}", sign.operator, break_margin=None)
    pdf.set_fill_color(*_rgb(ACCENT))
    pdf.rect(0, 0, WIDTH, 40, style="F")
    for text in plan.texts:
        pdf.set_font("Helvetica", "B" if text.bold else "", text.size / 0.3528)
        pdf.set_text_color(*_rgb(text.colour))
        pdf.text(text.x, text.y, latin1(text.text))
    pdf.set_draw_color(*_rgb(ACCENT))
    for icon, x, y, size in plan.icons:
        scale = size / 24
        pdf.set_line_width(2 * scale)
        for kind, values in icon.shapes:
            if kind == "circle":
                pdf.circle(x + values[0] * scale, y + values[1] * scale, values[2] * scale)
            elif kind == "rect":
                pdf.rect(
                    x + values[0] * scale,
                    y + values[1] * scale,
                    values[2] * scale,
                    values[3] * scale,
                )
            else:
                points = [
                    (x + values[i] * scale, y + values[i + 1] * scale)
                    for i in range(0, len(values), 2)
                ]
                pdf.polyline(points)
    qx, qy, module = plan.qr
    pdf.set_fill_color(0, 0, 0)
    for row, line in enumerate(sign.qr):
        for col, dark in enumerate(line):
            if dark:
                pdf.rect(qx + col * module, qy + row * module, module, module, style="F")
    pdf.link(qx, qy, module * len(sign.qr), module * len(sign.qr), sign.url)
    return bytes(pdf.output())
