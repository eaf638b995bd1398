"""What an advisory says once read, whatever its format: ranges of products and packages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from goodthings.core.errors import GoodthingsError

SEVERITIES = ("critical", "high", "medium", "low", "unknown")
"""Most severe first; the order lists and pages sort by."""


class AdvisoryError(GoodthingsError):
    """An advisory or SBOM file is not what it claims, or lacks what matching needs."""


@dataclass(frozen=True)
class Range:
    """Versions of one product or package that an advisory says are affected."""

    product: str
    """The name a device model or an SBOM component is matched by (ignoring case)."""
    vers: str
    """The versions, in the `vers` syntax with the ecosystem's scheme: `vers:rpm/<1:2.0-1`."""
    package: str | None = None
    """A package key (`pkg:pypi/requests`, `cpe:wattwise:m2`) when the advisory names one: then
    SBOM components are matched by it rather than by name."""


@dataclass(frozen=True)
class Advisory:
    id: str
    format: str
    summary: str
    severity: str
    url: str | None
    ranges: tuple[Range, ...]
    withdrawn: datetime | None = None
    """An OSV record the database has withdrawn: kept, shown as such, and matched to nothing."""
    notes: tuple[str, ...] = ()
    """What was read but cannot be matched (a GIT commit range), said at import."""


@dataclass(frozen=True)
class Affected:
    advisory: str
    severity: str
    summary: str
    device: str
    model: str
    version: str
    """The firmware version, or the affected component's version."""
    component: str | None = None
    """The SBOM component that is affected, or None when the model's firmware itself is."""
