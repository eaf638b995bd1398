"""The window of times a hub accepts: from 1970 to a little after it received the pack.

RFC 8428 §4.5.3 lets a time be anything a double can hold; the hub cannot live with all of
them. A reading dated before 1970 or centuries ahead is a device with a wrong clock, and a time
such as 1e300 has no date at all, so every page and export that shows it would have to guess.
The window is [1970-01-01T00:00:00Z, received + clock skew]: a device's clock may run a little
ahead of the hub's, by at most the deployment's declared allowance (``deployment.clock_skew``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from goodthings.core.errors import SenMLError
from goodthings.ingest.senml.records import Record


def check_times(records: Sequence[Record], *, received_at: float, clock_skew: float) -> None:
    """Raise SenMLError for the first record dated outside the window, naming it and the window."""
    latest = received_at + clock_skew
    for record in records:
        if not 0.0 <= record.time <= latest:
            raise SenMLError(
                f"the time {record.time!r} (bt + t) is {_where(record.time)}; times must lie "
                f"between 1970-01-01T00:00:00Z and {clock_skew:g} seconds after the hub received "
                f"the pack ({_iso(latest)}). A device whose clock is wrong should set it (NTP) or "
                "send times relative to now (below 2**28, RFC 8428 §4.5.3)",
                index=record.index,
                field="t",
            )


def _where(moment: float) -> str:
    if moment < 0.0:
        return "before 1970"
    date = _iso(moment)
    return "ahead of the hub's clock" + (f" ({date})" if date else ", beyond any date")


def _iso(moment: float) -> str:
    try:
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return ""
