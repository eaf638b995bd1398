"""The people's portal read models: what is collected about a person, their choices and who used
their data, shaped for the portal's pages (the pages themselves are in `web`).

`actions`, `activity` and `view` are public as namespaces (`from goodthings.portal import view`).
"""

from goodthings.portal import actions, activity, view
from goodthings.portal.chart import sparkline
from goodthings.portal.view import (
    NOT_A_DATE,
    Reading,
    StreamAbout,
    latest_readings,
    plain_period,
    shown_moment,
    streams_about,
)
from goodthings.portal.words import purpose_words, unit_words, value_words

__all__ = [
    "NOT_A_DATE",
    "Reading",
    "StreamAbout",
    "actions",
    "activity",
    "latest_readings",
    "plain_period",
    "purpose_words",
    "shown_moment",
    "sparkline",
    "streams_about",
    "unit_words",
    "value_words",
    "view",
]
