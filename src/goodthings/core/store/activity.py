"""How busy the data path is, for the console's dashboard: readings per minute and each device's
newest reading, counted in the database so an hour of readings is never read row by row."""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, cast, func, select

from goodthings.core.store import tables as t

_r = t.readings.c


def readings_per_minute(connection: Connection, since: float, until: float) -> dict[int, int]:
    """Readings whose time falls in [since, until), keyed by the minute's start (Unix seconds).

    PostgreSQL rounds where SQLite truncates when casting, so a reading within half a second of
    a minute's end may be counted in the next minute there: a chart does not show the difference.
    """
    minute = cast(_r.time, BigInteger) // 60
    rows = connection.execute(
        select(minute, func.count()).where(_r.time >= since, _r.time < until).group_by(minute)
    ).all()
    return {int(start) * 60: int(count) for start, count in rows}


def latest_by_device(connection: Connection) -> dict[str, float]:
    """Each device's newest reading time (Unix seconds); devices with no reading are absent."""
    rows = connection.execute(select(_r.device_id, func.max(_r.time)).group_by(_r.device_id))
    return {str(device): float(latest) for device, latest in rows}
