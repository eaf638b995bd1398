"""Where everything on a sign goes, for each paper size: text measured, wrapped, never overlapping.

Text is measured with Helvetica's own metrics (the PDF's font; Arial and Liberation Sans, what
browsers draw the SVG with, share them), wrapped to the room it has, and stacked: each line's
box runs from its ascent to its descent, and the next starts below it. When the content is
taller than the page, every size shrinks a step and the layout starts again, down to a floor
that stays readable; a sticker shows only icons, the operator and the QR code. Positions are
millimetres from the top left; a text's `y` is its baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from fpdf import FPDF

from goodthings.transparency.notices.render import translations
from goodthings.transparency.pdf import latin1
from goodthings.transparency.signs.content import Sign
from goodthings.transparency.signs.icons import Icon

__all__ = ["ACCENT", "INK", "PAPER", "Box", "Layout", "SignSize", "Text", "layout"]

INK, ACCENT, PAPER, QUIET = "#1b1b1b", "#0b5394", "#ffffff", "#4a4a4a"
_ASCENT, _DESCENT = 0.95, 0.28
"""Of the font size: above and below the baseline, a little more than Helvetica's own."""


class SignSize(StrEnum):
    """Paper sizes a sign is printed at; the sticker goes on the sensor itself."""

    a4 = "a4"
    a5 = "a5"
    sticker = "sticker"

    @property
    def millimetres(self) -> tuple[float, float]:
        return {"a4": (210.0, 297.0), "a5": (148.0, 210.0), "sticker": (74.0, 105.0)}[self.value]


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    size: float
    """Font size in millimetres."""
    text: str
    bold: bool = False
    colour: str = INK


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Layout:
    width: float
    height: float
    band: float
    """Height of the coloured band at the top, behind the title and the place."""
    texts: tuple[Text, ...]
    icons: tuple[tuple[Icon, Box], ...]
    qr: Box
    label_qr: Box | None = None
    """Where the assessment label's own QR code goes, when the sign carries a label."""


_METRICS = FPDF(unit="mm")


def measure(text: str, size: float, bold: bool) -> float:
    """Width in millimetres of `text` in Helvetica at `size` millimetres."""
    _METRICS.set_font("Helvetica", "B" if bold else "", size / 0.3528)
    return float(_METRICS.get_string_width(latin1(text)))


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Lines no wider than `width`; a word too long for a line (an address) is cut by letters."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if measure(candidate, size, bold) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        for letter in word:
            if line and measure(line + letter, size, bold) > width:
                lines.append(line)
                line = ""
            line += letter
    if line:
        lines.append(line)
    return lines or [""]


@dataclass
class _Flow:
    """A column of text from `top` down, with its texts collected."""

    x: float
    width: float
    top: float
    texts: list[Text] = field(default_factory=list)

    def write(
        self, text: str, size: float, *, bold: bool = False, colour: str = INK, gap: float = 0
    ) -> None:
        self.top += gap
        for line in wrap(text, self.width, size, bold):
            baseline = self.top + _ASCENT * size
            self.texts.append(Text(self.x, baseline, size, line, bold, colour))
            self.top = baseline + _DESCENT * size


def layout(sign: Sign, size: SignSize = SignSize.a4) -> Layout:
    """The sign laid out at `size`, its type as large as the page allows."""
    scale = 1.0
    while scale > 0.45:
        made = _attempt(sign, size, scale)
        if made is not None:
            return made
        scale *= 0.92
    forced = _attempt(sign, size, scale, force=True)
    assert forced is not None  # forced, it always lays out
    return forced


def _attempt(sign: Sign, size: SignSize, scale: float, force: bool = False) -> Layout | None:
    if size is SignSize.sticker:
        return _sticker(sign, scale, force)
    width, height = size.millimetres
    unit = width / 210 * scale
    margin = width * 0.07
    column = width - 2 * margin
    _ = translations(sign.language).gettext
    band = _Flow(margin, column, margin * 0.8)
    band.write(_("Sensors in use here"), 7 * unit, colour=PAPER)
    band.write(sign.place, 9 * unit, bold=True, colour=PAPER, gap=2 * unit)
    band_height = band.top + margin * 0.6
    body = _Flow(margin, column, band_height + 4 * unit, band.texts)
    if sign.where:
        body.write(sign.where, 4.2 * unit)
    run_by = _("Run by %(operator)s. Responsible: %(accountable)s.")
    body.write(
        run_by % {"operator": sign.operator, "accountable": sign.accountable},
        4.6 * unit,
        gap=3 * unit,
    )
    questions = _("Questions about your data: %(contact)s") % {"contact": sign.contact}
    body.write(questions, 4.6 * unit, bold=True, gap=2 * unit)
    icons: list[tuple[Icon, Box]] = []
    icon = 10 * unit
    text_x = margin + icon + 4 * unit
    body.write(_("What they collect"), 6 * unit, bold=True, gap=7 * unit)
    for row in sign.data:
        detail = (
            _("about people, kept %(kept)s") % {"kept": row.kept}
            if row.personal
            else _("not about people")
        )
        _icon_row(body, icons, row.icon, icon, text_x, ((row.what, True), (detail, False)), unit)
    body.write(_("Why"), 6 * unit, bold=True, gap=6 * unit)
    for purpose in sign.purposes:
        _icon_row(body, icons, purpose.icon, icon, text_x, ((purpose.why, False),), unit)
    qr_size = min(62 * unit, column * 0.42)
    footer_text = 3 * unit
    qr_top = height - margin * 0.6 - footer_text * (_ASCENT + _DESCENT) - 3 * unit - qr_size
    if body.top + 6 * unit > qr_top and not force:
        return None
    beside = _Flow(margin + qr_size + 6 * unit, column - qr_size - 6 * unit, qr_top, body.texts)
    beside.write(
        _(
            "Scan the code to read the full notice: what is collected, why, who gets it, how "
            "long it is kept, what can be worked out, and your choices."
        ),
        4.4 * unit,
    )
    beside.write(sign.url, 3.6 * unit, bold=True, colour=ACCENT, gap=3 * unit)
    label_qr = None
    if sign.label is not None:
        label_size = qr_size * 0.42
        label_x = margin + qr_size + 6 * unit
        label_qr = Box(label_x, beside.top + 3 * unit, label_size, label_size)
        words = _Flow(
            label_x + label_size + 3 * unit,
            column - qr_size - label_size - 9 * unit,
            label_qr.y,
            beside.texts,
        )
        words.write(sign.label.words, 3.2 * unit)
        words.write(sign.label.url, 3.0 * unit, bold=True, colour=ACCENT, gap=1.5 * unit)
        beside.top = max(label_qr.y + label_size, words.top)
    if beside.top > qr_top + qr_size and not force:
        return None
    foot = _Flow(margin, column, qr_top + qr_size + 3 * unit, beside.texts)
    version = _("Notice version %(version)s") % {"version": sign.notice_hash[:16]}
    foot.write(version, footer_text, colour=QUIET)
    qr = Box(margin, qr_top, qr_size, qr_size)
    return Layout(width, height, band_height, tuple(foot.texts), tuple(icons), qr, label_qr)


def _icon_row(
    flow: _Flow,
    icons: list[tuple[Icon, Box]],
    icon: Icon,
    icon_size: float,
    text_x: float,
    lines: tuple[tuple[str, bool], ...],
    unit: float,
) -> None:
    """An icon with its text beside it; the row is as tall as the taller of the two."""
    top = flow.top + 3 * unit
    icons.append((icon, Box(flow.x, top, icon_size, icon_size)))
    beside = _Flow(text_x, flow.x + flow.width - text_x, top, flow.texts)
    for index, (text, bold) in enumerate(lines):
        beside.write(text, (4.6 if index == 0 else 4) * unit, bold=bold, gap=0.8 * unit * index)
    flow.top = max(top + icon_size, beside.top)


def _sticker(sign: Sign, scale: float, force: bool) -> Layout | None:
    """Title, place, operator and contact; a row of icons; the QR code with its address."""
    width, height = SignSize.sticker.millimetres
    unit = scale
    margin = 5.0
    column = width - 2 * margin
    _ = translations(sign.language).gettext
    band = _Flow(margin, column, margin * 0.7)
    band.write(_("Sensors in use here"), 4.2 * unit, colour=PAPER)
    band.write(sign.place, 4.6 * unit, bold=True, colour=PAPER, gap=1 * unit)
    band_height = band.top + margin * 0.5
    body = _Flow(margin, column, band_height + 2.5 * unit, band.texts)
    body.write(_("Run by %(operator)s") % {"operator": sign.operator}, 3 * unit)
    questions = _("Questions: %(contact)s") % {"contact": sign.contact}
    body.write(questions, 3 * unit, bold=True, gap=1 * unit)
    icon = 7 * unit
    icons: list[tuple[Icon, Box]] = []
    # each icon once: the sticker says what kinds of data and purposes, not how many streams
    every = list(dict.fromkeys([row.icon for row in sign.data] + [p.icon for p in sign.purposes]))
    per_line = max(1, int((column + 1.5 * unit) // (icon + 1.5 * unit)))
    top = body.top + 2.5 * unit
    for index, each in enumerate(every):
        row, col = divmod(index, per_line)
        x = margin + col * (icon + 1.5 * unit)
        icons.append((each, Box(x, top + row * (icon + 1.5 * unit), icon, icon)))
    rows = -(-len(every) // per_line)
    body.top = top + rows * (icon + 1.5 * unit)
    qr_size = min(column * 0.55, 34 * unit)
    qr_top = height - margin - qr_size
    if body.top + 1 * unit > qr_top and not force:
        return None
    beside = _Flow(margin + qr_size + 2.5 * unit, column - qr_size - 2.5 * unit, qr_top, body.texts)
    beside.write(_("Scan for the full notice and your choices."), 2.8 * unit)
    beside.write(sign.url, 2.4 * unit, bold=True, colour=ACCENT, gap=1 * unit)
    if sign.label is not None:  # no room for a second code: the label and where to check it
        beside.write(sign.label.words, 2.2 * unit, gap=1 * unit)
        beside.write(sign.label.url, 2.2 * unit, bold=True, colour=ACCENT, gap=0.5 * unit)
    if beside.top > height - margin * 0.5 and not force:
        return None
    qr = Box(margin, qr_top, qr_size, qr_size)
    return Layout(width, height, band_height, tuple(beside.texts), tuple(icons), qr)
