"""Advisories and model components in the store: written on import and apply, read to match."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from goodthings.core.store import tables_security as ts
from goodthings.security.advisories.model import SEVERITIES, Advisory
from goodthings.security.advisories.sbom import Component


@dataclass(frozen=True)
class Listed:
    """An imported advisory as lists and pages show it."""

    id: str
    severity: str
    summary: str
    url: str | None
    withdrawn: datetime | None = None


def store_advisory(connection: Connection, advisory: Advisory) -> None:
    """Insert or replace an advisory and its ranges (a withdrawn record replaces its ranges too)."""
    connection.execute(
        delete(ts.advisory_ranges).where(ts.advisory_ranges.c.advisory_id == advisory.id)
    )
    connection.execute(delete(ts.advisories).where(ts.advisories.c.id == advisory.id))
    connection.execute(
        insert(ts.advisories).values(
            id=advisory.id,
            format=advisory.format,
            summary=advisory.summary,
            severity=advisory.severity,
            url=advisory.url,
            imported_at=datetime.now(UTC),
            withdrawn_at=advisory.withdrawn,
        )
    )
    if advisory.ranges:
        connection.execute(
            insert(ts.advisory_ranges),
            [
                {
                    "advisory_id": advisory.id,
                    "product": item.product,
                    "vers": item.vers,
                    "package": item.package,
                }
                for item in advisory.ranges
            ],
        )


def store_advisories(
    connection: Connection,
    advisories: Sequence[Advisory],
    *,
    step: Callable[[int, int, str], None] = lambda _done, _total, _id: None,
) -> None:
    """Store every advisory in the caller's transaction (all of them or none); `step(done,
    total, id)` before each, so an import of a whole OSV database can show a bar."""
    for done, advisory in enumerate(advisories):
        step(done, len(advisories), advisory.id)
        store_advisory(connection, advisory)
    step(len(advisories), len(advisories), "stored")


def list_advisories(connection: Connection) -> list[Listed]:
    """Every imported advisory, most severe first, withdrawn ones last."""
    rows = connection.execute(
        select(
            ts.advisories.c.id,
            ts.advisories.c.severity,
            ts.advisories.c.summary,
            ts.advisories.c.url,
            ts.advisories.c.withdrawn_at,
        )
    ).all()
    listed = [Listed(str(a), str(s), str(m), u, w) for a, s, m, u, w in rows]
    return sorted(
        listed,
        key=lambda a: (
            a.withdrawn is not None,
            SEVERITIES.index(a.severity) if a.severity in SEVERITIES else 9,
            a.id,
        ),
    )


def store_components(
    connection: Connection, model_id: str, components: Iterable[Component]
) -> None:
    """Replace a device model's components with those of its SBOM (none: it has no SBOM)."""
    connection.execute(
        delete(ts.model_components).where(ts.model_components.c.model_id == model_id)
    )
    rows = [
        {"model_id": model_id, "name": c.name, "version": c.version, "purl": c.purl, "cpe": c.cpe}
        for c in components
    ]
    if rows:
        connection.execute(insert(ts.model_components), rows)


def model_components(connection: Connection) -> dict[str, list[Component]]:
    """Each device model's components, by model id."""
    found: dict[str, list[Component]] = {}
    for model_id, name, version, purl, cpe in connection.execute(
        select(
            ts.model_components.c.model_id,
            ts.model_components.c.name,
            ts.model_components.c.version,
            ts.model_components.c.purl,
            ts.model_components.c.cpe,
        ).order_by(ts.model_components.c.id)
    ):
        found.setdefault(model_id, []).append(Component(name, version, purl, cpe))
    return found
