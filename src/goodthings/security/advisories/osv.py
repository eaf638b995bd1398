"""OSV records (schema 1.7.5, https://ossf.github.io/osv-schema/) as ranges to match.

Choices where the schema leaves them to a consumer, and what it asks of one:

* Ranges follow the schema's evaluation algorithm: events are sorted in the ecosystem's own
  version ordering first, `introduced: "0"` sorts before every version, `last_affected` closes
  a range including itself, and `limit` events bound what comes after them. Each affected span
  becomes one `vers` range, so `introduced: "0"` and no fix reads as every version (`*`).
* `affected[].versions` are compared as the schema says, by equality of the strings.
* `GIT` ranges are commit hashes; a device's firmware or a component's version is not one, so
  they are not evaluated (the record's `versions`, which the schema requires beside them, are).
* An affected entry without a package (a GIT range of a repository) matches nothing, and a
  record without `affected` is kept as information: both are valid OSV.
* A package of an ecosystem we know (PyPI, Debian, …) is matched only against SBOM components
  of that ecosystem, by package key; one of an ecosystem we do not know is matched by name
  against device models and components.
* Severity: the most severe of the standard `severity` fields (record and package level,
  CVSS v2/v3/v4 vectors or Ubuntu priorities), else `database_specific.severity` or
  `ecosystem_specific.severity` as GitHub and others publish it.
* `withdrawn` records are kept and shown, and flag no device.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from univers.version_range import RANGE_CLASS_BY_SCHEMES
from univers.versions import Version

from goodthings.security.advisories import severity as sev
from goodthings.security.advisories.model import Advisory, Range
from goodthings.security.advisories.packages import ecosystem, osv_package_key

_LINEAR = {"ECOSYSTEM", "SEMVER"}


def parse_osv(document: dict[str, Any]) -> Advisory:
    """An OSV record; raises KeyError or TypeError where a required field is missing."""
    record_id = str(document["id"])
    ranges: list[Range] = []
    notes: list[str] = []
    ratings = [_rating(item) for item in document.get("severity") or []]
    fallback = [sev.from_word((document.get("database_specific") or {}).get("severity"))]
    for affected in document.get("affected") or []:
        package = affected.get("package") or {}
        name = str(package.get("name") or "").strip()
        ratings += [_rating(item) for item in affected.get("severity") or []]
        for field in ("ecosystem_specific", "database_specific"):
            fallback.append(sev.from_word((affected.get(field) or {}).get("severity")))
        kinds = {str(block.get("type", "")) for block in affected.get("ranges") or []}
        if "GIT" in kinds:
            notes.append("GIT commit ranges are not compared with versions")
        if not name:
            notes.append("an affected entry names no package, so it matches nothing")
            continue
        eco = str(package.get("ecosystem") or "")
        key = osv_package_key(eco, name, package.get("purl"))
        known = ecosystem(eco)
        # A package of an ecosystem we do not know may be a device model too: match it by name.
        keys = [key] if known else list(dict.fromkeys([None, key]))
        for block in affected.get("ranges") or []:
            kind = str(block.get("type", ""))
            if kind in _LINEAR:
                scheme = known.scheme if known else ("semver" if kind == "SEMVER" else "generic")
                for vers in spans(scheme, block.get("events") or []):
                    ranges += [Range(name, vers, k) for k in keys]
        versions = [str(v) for v in affected.get("versions") or [] if "|" not in str(v)]
        if versions:
            vers = f"vers:{known.scheme if known else 'generic'}/" + "|".join(versions)
            ranges += [Range(name, vers, k) for k in keys]
    standard = sev.most_severe(ratings)
    urls = [ref.get("url") for ref in document.get("references") or [] if ref.get("url")]
    withdrawn = document.get("withdrawn")
    return Advisory(
        id=record_id,
        format="osv",
        summary=str(document.get("summary") or document.get("details") or record_id),
        severity=standard if standard != "unknown" else sev.most_severe(fallback),
        url=urls[0] if urls else None,
        ranges=tuple(dict.fromkeys(ranges)),
        withdrawn=_timestamp(withdrawn) if withdrawn else None,
        notes=tuple(dict.fromkeys(notes)),
    )


def _rating(item: dict[str, Any]) -> str:
    kind = str(item.get("type", "")).upper()
    if kind.startswith("CVSS_"):
        return sev.from_vector(item.get("score"))
    return sev.from_word(item.get("score"))


def _timestamp(text: object) -> datetime:
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def spans(scheme: str, events: list[dict[str, Any]]) -> Iterator[str]:
    """Each affected span of one range's events, as a `vers` range, by the OSV algorithm."""
    version_class: type[Version] = RANGE_CLASS_BY_SCHEMES[scheme].version_class  # type: ignore[assignment]
    timeline: list[tuple[str, str]] = [
        (kind, str(value))
        for event in events
        for kind, value in event.items()
        if kind in ("introduced", "fixed", "last_affected", "limit")
    ]
    limits = [v for kind, v in timeline if kind == "limit" and "*" not in v]
    timeline = sorted((e for e in timeline if e[0] != "limit"), key=_sort_key(version_class))
    top = max(limits, key=_sort_key(version_class)) if limits else None
    lower: str | None = None
    open_ = False
    for kind, value in timeline:
        if kind == "introduced" and not open_:
            lower, open_ = (None if value == "0" else value), True
        elif kind in ("fixed", "last_affected") and open_:
            upper = ("<" if kind == "fixed" else "<=") + value
            if top is not None and not _below(version_class, value, top):
                upper = f"<{top}"
            if top is None or lower is None or _below(version_class, lower, top):
                yield _vers(scheme, lower, upper)
            open_ = False
    if open_ and (top is None or lower is None or _below(version_class, lower, top)):
        yield _vers(scheme, lower, f"<{top}" if top is not None else None)


def _vers(scheme: str, lower: str | None, upper: str | None) -> str:
    bounds = [f">={lower}"] if lower else []
    bounds += [upper] if upper else []
    return f"vers:{scheme}/" + ("|".join(bounds) or "*")


def _sort_key(version_class: type[Version]) -> Any:
    """Order events by version; "0" first; a version the ordering cannot read sorts by text."""

    def key(event: tuple[str, str] | str) -> tuple[int, Any]:
        value = event if isinstance(event, str) else event[1]
        if value == "0":
            return (0, "")
        try:
            return (1, version_class(value))
        except (ValueError, TypeError):
            return (2, value)

    return key


def _below(version_class: type[Version], value: str, limit: str) -> bool:
    try:
        return bool(version_class(value) < version_class(limit))
    except (ValueError, TypeError):
        return True
