"""The operator's fleet-security overview: one read of everything the security page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, or_, select

from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.security.advisories import Affected, Listed, affected_devices, list_advisories
from goodthings.security.disclosure import Report, reports
from goodthings.security.firmware import Campaign, SupportStatus, campaigns, support_status


@dataclass(frozen=True)
class CredentialAge:
    device: str
    live: int
    """Credentials that work now (a rotation's old one counts until its grace ends)."""
    newest: datetime | None

    def age_days(self, now: datetime) -> int | None:
        if self.newest is None:
            return None
        newest = self.newest if self.newest.tzinfo else self.newest.replace(tzinfo=UTC)
        return (now - newest).days


@dataclass(frozen=True)
class Lockout:
    started_at: datetime
    scope: str
    subject: str
    failures: int
    seconds: float


@dataclass(frozen=True)
class FleetSecurity:
    credentials: tuple[CredentialAge, ...]
    refusals: dict[str, int]
    lockouts: tuple[Lockout, ...]
    advisories: tuple[Listed, ...]
    affected: tuple[Affected, ...]
    support: tuple[SupportStatus, ...]
    campaigns: tuple[Campaign, ...]
    reports: tuple[Report, ...]
    today: date


def fleet_security(connection: Connection, now: datetime | None = None) -> FleetSecurity:
    now = now or datetime.now(UTC)
    live = (
        select(
            t.device_tokens.c.device_id,
            func.count().label("live"),
            func.max(t.device_tokens.c.created_at).label("newest"),
        )
        .where(
            t.device_tokens.c.revoked_at.is_(None),
            or_(t.device_tokens.c.expires_at.is_(None), t.device_tokens.c.expires_at > now),
        )
        .group_by(t.device_tokens.c.device_id)
        .subquery()
    )
    rows = connection.execute(
        select(t.devices.c.id, live.c.live, live.c.newest)
        .outerjoin(live, live.c.device_id == t.devices.c.id)
        .where(t.devices.c.retired_at.is_(None))
        .order_by(t.devices.c.id)
    ).all()
    credentials = tuple(
        CredentialAge(device, int(count or 0), newest) for device, count, newest in rows
    )
    refusals: dict[str, int] = {
        str(reason): int(count)
        for reason, count in connection.execute(
            select(ts.password_refusals.c.refusal, func.count()).group_by(
                ts.password_refusals.c.refusal
            )
        ).all()
    }
    lockouts = tuple(
        Lockout(*row)
        for row in connection.execute(
            select(
                ts.security_lockouts.c.started_at,
                ts.security_lockouts.c.scope,
                ts.security_lockouts.c.subject,
                ts.security_lockouts.c.failures,
                ts.security_lockouts.c.seconds,
            )
            .order_by(ts.security_lockouts.c.id.desc())
            .limit(20)
        )
    )
    return FleetSecurity(
        credentials=credentials,
        refusals=refusals,
        lockouts=lockouts,
        advisories=tuple(list_advisories(connection)),
        affected=tuple(affected_devices(connection)),
        support=tuple(support_status(connection)),
        campaigns=tuple(campaigns(connection)),
        reports=tuple(reports(connection)),
        today=now.date(),
    )
