"""DPV terms, units and values as a person reads them: "to handle payments, bills and receipts"
rather than `PaymentManagement`, "°C" rather than `Cel`, "open" rather than `True`.

The manifest names things for machines (DPV terms, SenML units, identifiers); every page that
shows them to people goes through these functions, so a term is worded the same everywhere.
"""

from __future__ import annotations

from goodthings.core.manifest import PURPOSES
from goodthings.portal.i18n import translations

# SenML units (RFC 8428 §12.1 and its registry) the examples and devices use, as people write them.
_UNITS = {
    "Cel": "°C",
    "K": "kelvin",
    "W": "watts",
    "kW": "kilowatts",
    "Wh": "watt-hours",
    "kWh": "kilowatt-hours",
    "%RH": "% humidity",
    "%": "%",
    "ppm": "parts per million",
    "beat/min": "beats a minute",
    "count": "count",
    "count/min": "a minute",
    "m": "metres",
    "m/s": "metres a second",
    "lx": "lux",
    "dB": "decibels",
    "Pa": "pascals",
    "hPa": "hectopascals",
    "s": "seconds",
    "V": "volts",
    "A": "amperes",
}

# A yes/no stream's two values, chosen by what its name says it measures.
_STATES = {
    "open": ("open", "closed"),
    "door": ("open", "closed"),
    "window": ("open", "closed"),
    "presence": ("someone there", "nobody there"),
    "occupied": ("someone there", "nobody there"),
    "motion": ("movement", "no movement"),
    "call": ("call made", "no call"),
    "fall": ("fall detected", "no fall"),
    "in_bed": ("in bed", "out of bed"),
}


def purpose_words(purpose: str | None) -> str | None:
    """A DPV purpose as the portal says it everywhere: "to handle payments, bills and receipts"."""
    if purpose is None or purpose not in PURPOSES:
        return purpose
    return PURPOSES.get(purpose).explanation


def unit_words(unit: str | None) -> str:
    """A SenML unit as people write it; one we have no words for is shown as it is."""
    if not unit:
        return ""
    return _UNITS.get(unit, unit)


def value_words(
    value: object, stream: str = "", unit: str | None = None, language: str = "en"
) -> str:
    """A reading as text: yes/no values in words that fit the stream, numbers with their unit,
    in `language` (the portal's catalogue has the words)."""
    _ = translations(language).gettext
    if isinstance(value, bool):
        key = next((k for k in _STATES if k in stream.lower()), None)
        on, off = _STATES[key] if key else ("yes", "no")
        return _(on if value else off)
    if value is None:
        return _("no value")
    shown = f"{value:g}" if isinstance(value, float) else str(value)
    words = _(unit_words(unit)) if unit else ""
    if not words:
        return shown
    return f"{shown}{words}" if words in {"°C", "%"} else f"{shown} {words}"
