"""The people's portal read models: what is collected about a person, their choices and who used
their data, shaped for the portal's pages (the pages themselves are in `web`).

`activity` and `view` are public as namespaces (`from goodthings.portal import view`).
"""

from goodthings.portal import activity, view
from goodthings.portal.chart import sparkline
from goodthings.portal.view import (
    Reading,
    StreamAbout,
    latest_readings,
    plain_period,
    streams_about,
)

__all__ = [
    "Reading",
    "StreamAbout",
    "activity",
    "latest_readings",
    "plain_period",
    "sparkline",
    "streams_about",
    "view",
]
