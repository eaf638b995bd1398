"""Terms, units and values in the words a person reads, and charts that say what they show."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from goodthings.core.manifest import PURPOSES
from goodthings.portal import Reading, purpose_words, sparkline, unit_words, value_words


def test_purposes_are_said_as_what_they_are_for() -> None:
    assert purpose_words("PaymentManagement") == "to handle payments, bills and receipts"
    for name in PURPOSES.terms:
        words = purpose_words(name)
        assert words and words != name and words.startswith("to "), name


@pytest.mark.parametrize(
    ("value", "stream", "unit", "shown"),
    [
        (True, "open", None, "open"),
        (False, "open", None, "closed"),
        (True, "presence", None, "someone there"),
        (False, "window_contact", None, "closed"),
        (True, "mystery", None, "yes"),
        (21.5, "temperature", "Cel", "21.5°C"),
        (62.0, "heart_rate", "beat/min", "62 beats a minute"),
        (430, "power", "W", "430 watts"),
        (3.0, "thing", "furlong", "3 furlong"),
        (None, "power", "W", "no value"),
    ],
)
def test_values_are_words_that_fit_the_stream(
    value: object, stream: str, unit: str | None, shown: str
) -> None:
    assert value_words(value, stream, unit) == shown


def test_units_without_words_are_shown_as_they_are() -> None:
    assert unit_words("Cel") == "°C" and unit_words("lm") == "lm" and unit_words(None) == ""


def _at(minute: int, value: float | bool) -> Reading:
    return Reading(datetime(2026, 12, 1, 8, minute, tzinfo=UTC), value)


def test_a_chart_has_both_axes_with_units_and_the_time_span() -> None:
    chart = str(sparkline([_at(0, 20.0), _at(30, 22.5)], "Air temperature", "Cel"))
    label = re.search(r'aria-label="([^"]+)"', chart)
    assert label is not None
    assert label.group(1) == (
        "Air temperature: 2 readings from 01 Dec 08:00 to 01 Dec 08:30 UTC, "
        "between 20°C and 22.5°C, latest 22.5°C"
    )
    texts = re.findall(r"<text[^>]*>([^<]+)</text>", chart)
    assert texts == ["22.5°C", "20°C", "01 Dec 08:00", "01 Dec 08:30", "time (UTC)"]


def test_a_yes_no_chart_labels_its_two_states_in_words() -> None:
    chart = str(sparkline([_at(0, False), _at(5, True), _at(9, False)], "Front door", None, "open"))
    texts = re.findall(r"<text[^>]*>([^<]+)</text>", chart)
    assert texts[:2] == ["open", "closed"]
    assert "latest closed" in chart and "True" not in chart


def test_no_chart_for_fewer_than_two_numbers() -> None:
    assert sparkline([_at(0, 1.0)], "x", None) == ""
