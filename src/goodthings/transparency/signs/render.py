"""A sign as SVG or PDF: laid out once by `layout`, drawn by two small backends.

The PDF uses the built-in Helvetica, so text is reduced to Latin-1 (typographic quotes and
dashes become plain ones) to print anywhere.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from fpdf import FPDF

from goodthings.transparency.notices.render import translations
from goodthings.transparency.pdf import a4_document, latin1
from goodthings.transparency.signs.content import Sign
from goodthings.transparency.signs.icons import Icon
from goodthings.transparency.signs.layout import ACCENT, PAPER, Box, SignSize, layout

__all__ = ["to_pdf", "to_svg"]


def _svg_icon(icon: Icon, box: Box, language: str = "en") -> str:
    label = translations(language).gettext(icon.label)
    scale = box.width / 24
    parts = [
        f'<g class="icon" transform="translate({box.x:.2f} {box.y:.2f}) scale({scale:.4f})" '
        f'fill="none" stroke="{ACCENT}" stroke-width="2" stroke-linejoin="round" '
        f'stroke-linecap="round"><title>{escape(label)}</title>'
        '<rect width="24" height="24" stroke="none"/>'
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


def _svg_qr(
    modules: tuple[tuple[bool, ...], ...], box: Box, url: str, kind: str, language: str
) -> str:
    """A QR code as one path, linked to the address it encodes, named in the sign's language."""
    name = translations(language).gettext("QR code: %(url)s") % {"url": url}
    module = box.width / len(modules)
    path = "".join(
        f"M{box.x + col * module:.3f} {box.y + row * module:.3f}"
        f"h{module:.3f}v{module:.3f}h-{module:.3f}z"
        for row, line in enumerate(modules)
        for col, dark in enumerate(line)
        if dark
    )
    return (
        f'<a href="{escape(url)}"><path class="{kind}" d="{path}" fill="#000000">'
        f"<title>{escape(name)}</title></path></a>"
    )


def to_svg(sign: Sign, size: SignSize = SignSize.a4) -> str:
    """The sign as a standalone SVG document at `size`, with a title for screen readers."""
    plan = layout(sign, size)
    width, height = plan.width, plan.height
    title = translations(sign.language).gettext("Sensors in use here: %(place)s") % {
        "place": sign.place
    }
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="sign-title">',
        f'<title id="sign-title">{escape(title)}</title>',
        f'<rect width="{width}" height="{height}" fill="{PAPER}"/>',
        f'<rect width="{width}" height="{plan.band:.2f}" fill="{ACCENT}"/>',
    ]
    for text in plan.texts:
        weight = ' font-weight="bold"' if text.bold else ""
        out.append(
            f'<text x="{text.x:.2f}" y="{text.y:.2f}" font-family="Helvetica, Arial, sans-serif" '
            f'font-size="{text.size:.3f}" fill="{text.colour}"{weight}>{escape(text.text)}</text>'
        )
    for icon, box in plan.icons:
        out.append(_svg_icon(icon, box, sign.language))
    out.append(_svg_qr(sign.qr, plan.qr, sign.url, "qr", sign.language))
    if sign.label is not None and plan.label_qr is not None:
        out.append(
            _svg_qr(sign.label.qr, plan.label_qr, sign.label.url, "qr label-qr", sign.language)
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def to_pdf(sign: Sign, size: SignSize = SignSize.a4) -> bytes:
    """The sign as a one-page PDF at `size`."""
    plan = layout(sign, size)
    pdf = a4_document(
        translations(sign.language).gettext("Sensors in use here: %(place)s")
        % {"place": sign.place},
        sign.operator,
        break_margin=None,
        size=(plan.width, plan.height),
    )
    pdf.set_fill_color(*_rgb(ACCENT))
    pdf.rect(0, 0, plan.width, plan.band, style="F")
    for text in plan.texts:
        pdf.set_font("Helvetica", "B" if text.bold else "", text.size / 0.3528)
        pdf.set_text_color(*_rgb(text.colour))
        pdf.text(text.x, text.y, latin1(text.text))
    pdf.set_draw_color(*_rgb(ACCENT))
    for icon, box in plan.icons:
        _pdf_icon(pdf, icon, box)
    _pdf_qr(pdf, sign.qr, plan.qr, sign.url)
    if sign.label is not None and plan.label_qr is not None:
        _pdf_qr(pdf, sign.label.qr, plan.label_qr, sign.label.url)
    return bytes(pdf.output())


def _pdf_qr(pdf: FPDF, modules: tuple[tuple[bool, ...], ...], box: Box, url: str) -> None:
    module = box.width / len(modules)
    pdf.set_fill_color(0, 0, 0)
    for row, line in enumerate(modules):
        for col, dark in enumerate(line):
            if dark:
                pdf.rect(box.x + col * module, box.y + row * module, module, module, "F")
    pdf.link(box.x, box.y, box.width, box.height, url)


def _pdf_icon(pdf: FPDF, icon: Icon, box: Box) -> None:
    scale = box.width / 24
    pdf.set_line_width(2 * scale)
    for kind, values in icon.shapes:
        if kind == "circle":
            pdf.circle(box.x + values[0] * scale, box.y + values[1] * scale, values[2] * scale)
        elif kind == "rect":
            x, y = box.x + values[0] * scale, box.y + values[1] * scale
            pdf.rect(x, y, values[2] * scale, values[3] * scale)
        else:
            points = [
                (box.x + values[i] * scale, box.y + values[i + 1] * scale)
                for i in range(0, len(values), 2)
            ]
            pdf.polyline(points)
