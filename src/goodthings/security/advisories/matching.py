"""Which devices an advisory affects: by their model and firmware, and by their model's SBOM.

A range with no package key, or with a CPE's, is the product itself: it matches a device model
by id, `model` name or "`manufacturer` `model`" (ignoring case), at the firmware the device
last reported (else the declared one). A range of a package matches the components of the
model's SBOM that have its package key, at the component's version, the way OWASP
Dependency-Track matches an SBOM against OSV; one without a key matches components by name.
Withdrawn advisories match nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.security.advisories.model import SEVERITIES, Affected
from goodthings.security.advisories.sbom import Component
from goodthings.security.advisories.stored import model_components

if TYPE_CHECKING:  # univers is loaded when a range is first compared
    from univers.version_range import VersionRange
    from univers.versions import Version


def in_range(version: str, vers: str) -> bool:
    """Whether `version` lies in the `vers` range, in the ordering of its scheme.

    A list of bare versions (OSV's `versions`, CSAF's product versions) also matches by equal
    text, as the OSV algorithm says, so versions the ordering cannot read still match exactly.
    """
    constraints = vers.removeprefix("vers:").partition("/")[2]
    if constraints.strip() == "*":
        return True
    items = [c.strip() for c in constraints.split("|")]
    bare = all(c[:1] not in "<>=!" for c in items)
    if bare and version in items:
        return True
    versions = _parsed(vers)
    if versions is None:
        return False
    version_class: type[Version] = versions.version_class  # type: ignore[assignment]
    try:
        return bool(version_class(version) in versions)
    except Exception:  # univers raises ValueError, TypeError, InvalidVersion and others
        return False


@lru_cache(maxsize=4096)
def _parsed(vers: str) -> VersionRange | None:
    """A range parsed once per process: the fleet page compares every device with it."""
    from univers.version_range import VersionRange

    try:
        return VersionRange.from_string(vers)  # type: ignore[no-untyped-call,no-any-return]
    except Exception:  # univers raises ValueError, TypeError, InvalidVersion and others
        return None


@dataclass(frozen=True)
class _Device:
    id: str
    model: str
    names: frozenset[str]
    firmware: str
    components: tuple[Component, ...]
    by_key: dict[str, list[Component]] = field(default_factory=dict)
    """The components under each of their package keys and under their casefolded names."""

    def __post_init__(self) -> None:
        for component in self.components:
            for key in (*component.keys(), f"name:{component.name.casefold()}"):
                self.by_key.setdefault(key, []).append(component)


def _fleet(connection: Connection) -> list[_Device]:
    rows = connection.execute(
        select(
            t.devices.c.id,
            t.devices.c.model_id,
            t.device_models.c.manufacturer,
            t.device_models.c.model,
            t.devices.c.firmware,
            ts.firmware_reports.c.version,
        )
        .join(t.device_models, t.device_models.c.id == t.devices.c.model_id)
        .outerjoin(ts.firmware_reports, ts.firmware_reports.c.device_id == t.devices.c.id)
        .where(t.devices.c.retired_at.is_(None))
        .order_by(t.devices.c.id)
    ).all()
    components = model_components(connection)
    return [
        _Device(
            device,
            model_id,
            frozenset(
                {model_id.casefold(), model.casefold(), f"{manufacturer} {model}".casefold()}
            ),
            reported or declared,
            tuple(components.get(model_id, ())),
        )
        for device, model_id, manufacturer, model, declared, reported in rows
    ]


def affected_devices(connection: Connection, advisory_id: str | None = None) -> list[Affected]:
    """Every (advisory, device, component) where the firmware or a component is in a range."""
    query = (
        select(
            ts.advisories.c.id,
            ts.advisories.c.severity,
            ts.advisories.c.summary,
            ts.advisory_ranges.c.product,
            ts.advisory_ranges.c.vers,
            ts.advisory_ranges.c.package,
        )
        .join(ts.advisory_ranges, ts.advisory_ranges.c.advisory_id == ts.advisories.c.id)
        .where(ts.advisories.c.withdrawn_at.is_(None))
    )
    if advisory_id is not None:
        query = query.where(ts.advisories.c.id == advisory_id)
    fleet = _fleet(connection)
    found: dict[tuple[str, str, str | None], Affected] = {}
    for advisory, severity, summary, product, vers, package in connection.execute(query):
        name = product.casefold()
        for device in fleet:
            is_product = package is None or package.startswith("cpe:")
            if is_product and name in device.names and in_range(device.firmware, vers):
                found[(advisory, device.id, None)] = Affected(
                    advisory, severity, summary, device.id, device.model, device.firmware
                )
            for component in device.by_key.get(package or f"name:{name}", ()):
                if in_range(component.version, vers):
                    found[(advisory, device.id, component.label())] = Affected(
                        advisory,
                        severity,
                        summary,
                        device.id,
                        device.model,
                        component.version,
                        component.name,
                    )
    return sorted(
        found.values(),
        key=lambda a: (SEVERITIES.index(a.severity), a.advisory, a.device, a.component or ""),
    )
