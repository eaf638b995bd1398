"""Printable signs for sensors in shared spaces: icons, the accountable operator, a QR code."""

from goodthings.transparency.signs.content import Sign, build_sign
from goodthings.transparency.signs.layout import SignSize
from goodthings.transparency.signs.render import to_pdf, to_svg

__all__ = ["Sign", "SignSize", "build_sign", "to_pdf", "to_svg"]
