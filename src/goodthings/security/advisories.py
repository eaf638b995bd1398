"""Security advisories (OSV or CSAF JSON) matched against the fleet by product and version range.

An advisory names products and version ranges; a device is affected when its model is the
product (by model id, model name, or "manufacturer model", ignoring case) and its firmware
(the version it last reported, else the declared one) lies in a range. Ranges are kept in the
`vers` syntax and compared by `univers`, so OSV events and CSAF ranges are judged alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select
from univers.version_range import VersionRange

from goodthings.core.errors import GoodthingsError
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts

SEVERITIES = ("critical", "high", "medium", "low", "unknown")


class AdvisoryError(GoodthingsError):
    """An advisory file is neither OSV nor CSAF, or lacks what matching needs."""


@dataclass(frozen=True)
class Range:
    product: str
    vers: str
    """e.g. `vers:generic/>=5.0.0|<5.1.0`"""


@dataclass(frozen=True)
class Advisory:
    id: str
    format: str
    summary: str
    severity: str
    url: str | None
    ranges: tuple[Range, ...]


@dataclass(frozen=True)
class Affected:
    advisory: str
    severity: str
    summary: str
    device: str
    model: str
    version: str


def _severity(text: object) -> str:
    value = str(text or "").strip().lower()
    return (
        {"moderate": "medium"}.get(value, value)
        if value in {*SEVERITIES, "moderate"}
        else "unknown"
    )


def _osv_ranges(product: str, affected: dict[str, Any]) -> Iterator[Range]:
    for block in affected.get("ranges", []):
        lower: str | None = None
        for event in block.get("events", []):
            if "introduced" in event:
                lower = None if event["introduced"] in ("0", "") else str(event["introduced"])
            elif "fixed" in event or "last_affected" in event:
                upper = f"<{event['fixed']}" if "fixed" in event else f"<={event['last_affected']}"
                bounds = [f">={lower}"] if lower else []
                yield Range(product, "vers:generic/" + "|".join([*bounds, upper]))
                lower = None
        if lower is not None:  # introduced and never fixed
            yield Range(product, f"vers:generic/>={lower}")
    if affected.get("versions"):
        yield Range(product, "vers:generic/" + "|".join(str(v) for v in affected["versions"]))


def parse_osv(document: dict[str, Any]) -> Advisory:
    """An OSV record (https://ossf.github.io/osv-schema/)."""
    ranges: list[Range] = []
    severity = _severity(document.get("database_specific", {}).get("severity"))
    for affected in document.get("affected", []):
        product = str(affected.get("package", {}).get("name", "")).strip()
        if not product:
            raise AdvisoryError(f"{document['id']}: an affected entry has no package name")
        ranges.extend(_osv_ranges(product, affected))
        if severity == "unknown":
            severity = _severity(affected.get("ecosystem_specific", {}).get("severity"))
    urls = [ref.get("url") for ref in document.get("references", []) if ref.get("url")]
    return Advisory(
        id=str(document["id"]),
        format="osv",
        summary=str(document.get("summary") or document.get("details") or document["id"]),
        severity=severity,
        url=urls[0] if urls else None,
        ranges=tuple(ranges),
    )


def _csaf_products(
    branches: Iterable[dict[str, Any]], path: tuple[str, ...] = ()
) -> Iterator[tuple[str, tuple[str, ...], str, str]]:
    """(product_id, vendor/product names, category, name) of each leaf of a CSAF product tree."""
    for branch in branches:
        here = (*path, str(branch.get("name", "")))
        if "product" in branch:
            yield branch["product"]["product_id"], here[:-1], branch.get("category", ""), here[-1]
        yield from _csaf_products(branch.get("branches", []), here)


def parse_csaf(document: dict[str, Any]) -> Advisory:
    """A CSAF 2.0 security advisory (OASIS), with product versions or version ranges."""
    meta = document["document"]
    leaves = {
        product_id: (names, category, name)
        for product_id, names, category, name in _csaf_products(
            document.get("product_tree", {}).get("branches", [])
        )
    }
    affected_ids: list[str] = []
    severities: list[str] = []
    for vulnerability in document.get("vulnerabilities", []):
        status = vulnerability.get("product_status", {})
        affected_ids += status.get("known_affected", []) + status.get("first_affected", [])
        for score in vulnerability.get("scores", []):
            severities.append(_severity(score.get("cvss_v3", {}).get("baseSeverity")))
    ranges = []
    for product_id in dict.fromkeys(affected_ids):
        if product_id not in leaves:
            raise AdvisoryError(
                f"{meta['tracking']['id']}: product {product_id!r} is not in its tree"
            )
        names, category, name = leaves[product_id]
        product = " ".join(n for n in names if n)
        if category == "product_version_range":
            vers = name if name.startswith("vers:") else f"vers:generic/{name}"
        elif category == "product_version":
            vers = f"vers:generic/{name}"
        else:  # every version of a product
            product, vers = " ".join((*names, name)).strip(), "vers:generic/*"
        ranges.append(Range(product, vers))
    aggregate = _severity(meta.get("aggregate_severity", {}).get("text"))
    known = [s for s in severities if s != "unknown"]
    severity = min(known, key=SEVERITIES.index) if known else aggregate
    urls = [ref.get("url") for ref in meta.get("references", []) if ref.get("url")]
    return Advisory(
        id=str(meta["tracking"]["id"]),
        format="csaf",
        summary=str(meta.get("title", meta["tracking"]["id"])),
        severity=severity,
        url=urls[0] if urls else None,
        ranges=tuple(ranges),
    )


def read_advisory(path: Path) -> Advisory:
    """Parse an OSV or CSAF JSON file, telling which by its shape."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdvisoryError(f"{path}: not readable JSON ({exc})") from None
    try:
        if (
            isinstance(document, dict)
            and "document" in document
            and "csaf_version" in document.get("document", {})
        ):
            return parse_csaf(document)
        if isinstance(document, dict) and "id" in document and "affected" in document:
            return parse_osv(document)
    except (KeyError, TypeError) as exc:
        raise AdvisoryError(f"{path}: a required field is missing or malformed: {exc}") from None
    raise AdvisoryError(
        f"{path}: neither an OSV record (with 'id' and 'affected') nor a CSAF advisory "
        "(with 'document.csaf_version')"
    )


def store_advisory(connection: Connection, advisory: Advisory) -> None:
    """Insert or replace an advisory and its ranges."""
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
        )
    )
    for item in advisory.ranges:
        connection.execute(
            insert(ts.advisory_ranges).values(
                advisory_id=advisory.id, product=item.product, vers=item.vers
            )
        )


def in_range(version: str, vers: str) -> bool:
    """Whether `version` lies in the `vers` range (an unparseable version is not matched)."""
    if vers.endswith("/*"):
        return True
    try:
        versions = VersionRange.from_string(vers)  # type: ignore[no-untyped-call]
        return bool(versions.version_class(version) in versions)
    except (ValueError, TypeError):
        return False


def _fleet(connection: Connection) -> list[tuple[str, str, set[str], str]]:
    """(device, model id, names the model goes by, current firmware) of every current device."""
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
    return [
        (
            device,
            model_id,
            {model_id.casefold(), model.casefold(), f"{manufacturer} {model}".casefold()},
            reported or declared,
        )
        for device, model_id, manufacturer, model, declared, reported in rows
    ]


def affected_devices(connection: Connection, advisory_id: str | None = None) -> list[Affected]:
    """Every (advisory, device) pair where the device's firmware is in an affected range."""
    query = select(
        ts.advisories.c.id,
        ts.advisories.c.severity,
        ts.advisories.c.summary,
        ts.advisory_ranges.c.product,
        ts.advisory_ranges.c.vers,
    ).join(ts.advisory_ranges, ts.advisory_ranges.c.advisory_id == ts.advisories.c.id)
    if advisory_id is not None:
        query = query.where(ts.advisories.c.id == advisory_id)
    fleet = _fleet(connection)
    found: dict[tuple[str, str], Affected] = {}
    for advisory, severity, summary, product, vers in connection.execute(query):
        for device, model_id, names, version in fleet:
            if product.casefold() in names and in_range(version, vers):
                found[(advisory, device)] = Affected(
                    advisory, severity, summary, device, model_id, version
                )
    return sorted(
        found.values(), key=lambda a: (SEVERITIES.index(a.severity), a.advisory, a.device)
    )


def list_advisories(connection: Connection) -> list[tuple[str, str, str, str | None]]:
    """(id, severity, summary, url) of every imported advisory, most severe first."""
    rows = connection.execute(
        select(
            ts.advisories.c.id,
            ts.advisories.c.severity,
            ts.advisories.c.summary,
            ts.advisories.c.url,
        )
    ).all()
    return sorted(
        ((str(a), str(s), str(m), u) for a, s, m, u in rows),
        key=lambda row: (SEVERITIES.index(row[1]) if row[1] in SEVERITIES else 9, row[0]),
    )
