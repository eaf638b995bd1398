"""A device model's software bill of materials: its components, each with its version and ids.

CycloneDX (JSON, spec 1.2 to 1.6) is read with cyclonedx-python-lib and SPDX (JSON, 2.2 and
2.3) with spdx-tools, the two projects' own libraries; the format is told by the document's
`bomFormat` or `spdxVersion`. Every component counts, nested ones and the described device
itself included, as Dependency-Track does; each carries its package URL and CPE when the SBOM
gives them, which is what advisories are matched by.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from goodthings.security.advisories.model import AdvisoryError
from goodthings.security.advisories.packages import cpe_key, parse_purl, purl_key

if TYPE_CHECKING:  # the SBOM libraries (with beartype) are loaded when an SBOM is read
    from cyclonedx.model.component import Component as CycloneComponent


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    purl: str | None = None
    cpe: str | None = None

    def keys(self) -> set[str]:
        """The package keys this component is known by (see `packages`)."""
        found: set[str] = set()
        if self.purl and (parsed := parse_purl(self.purl)):
            found.add(purl_key(parsed))
        if self.cpe and (cpe := cpe_key(self.cpe)):
            found.add(cpe[0])
        return found

    def label(self) -> str:
        return f"{self.name} {self.version}"


def read_sbom(path: Path) -> tuple[Component, ...]:
    """The components of a CycloneDX or SPDX JSON file; an AdvisoryError says what is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdvisoryError(f"{path}: not a readable JSON SBOM ({exc})") from None
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        return _cyclonedx(path, document)
    if isinstance(document, dict) and "spdxVersion" in document:
        return _spdx(path)
    raise AdvisoryError(
        f'{path}: neither a CycloneDX SBOM (with "bomFormat": "CycloneDX") nor an SPDX one '
        '(with "spdxVersion"), in JSON'
    )


def _cyclonedx(path: Path, document: dict[str, Any]) -> tuple[Component, ...]:
    from cyclonedx.model.bom import Bom

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the library warns about its own deprecations
            bom = Bom.from_json(document)  # type: ignore[attr-defined]
    except Exception as exc:  # the library raises bare ValueError, KeyError, TypeError, …
        raise AdvisoryError(f"{path}: not a valid CycloneDX SBOM ({exc})") from None
    roots = list(bom.components)
    if bom.metadata.component is not None:
        roots.append(bom.metadata.component)
    return tuple(dict.fromkeys(_from_cyclonedx(roots)))


def _from_cyclonedx(components: Iterable[CycloneComponent]) -> Iterator[Component]:
    for component in components:
        if component.version:
            purl = str(component.purl) if component.purl else None
            version = _with_epoch(component.version, purl)
            yield Component(component.name, version, purl, component.cpe or None)
        yield from _from_cyclonedx(component.components)


def _with_epoch(version: str, purl: str | None) -> str:
    """An RPM's version with its epoch, which purls carry as a qualifier (`?epoch=1`)."""
    parsed = parse_purl(purl) if purl else None
    if parsed is None or parsed.type != "rpm" or ":" in version:
        return version
    qualifiers = parsed.qualifiers if isinstance(parsed.qualifiers, dict) else {}
    epoch = qualifiers.get("epoch")
    return f"{epoch}:{version}" if epoch else version


def _spdx(path: Path) -> tuple[Component, ...]:
    from spdx_tools.spdx.model.package import ExternalPackageRefCategory
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.json import json_parser

    try:
        document = json_parser.parse_from_file(str(path))
    except SPDXParsingError as exc:
        messages: list[str] = exc.get_messages()  # type: ignore[no-untyped-call]
        problems = "; ".join(messages[:3])
        raise AdvisoryError(f"{path}: not a valid SPDX document ({problems})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise AdvisoryError(f"{path}: not a valid SPDX document ({exc})") from None
    found: list[Component] = []
    for package in document.packages:
        if not package.version:
            continue
        refs = package.external_references
        purl = next((r.locator for r in refs if r.reference_type == "purl"), None)
        cpe = next(
            (
                r.locator
                for r in refs
                if r.category == ExternalPackageRefCategory.SECURITY
                and r.reference_type in ("cpe23Type", "cpe22Type")
            ),
            None,
        )
        found.append(Component(package.name, _with_epoch(package.version, purl), purl, cpe))
    return tuple(dict.fromkeys(found))
