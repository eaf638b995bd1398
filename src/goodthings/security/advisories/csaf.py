"""CSAF 2.0 advisories (OASIS Standard, 2022) as ranges to match.

The whole product tree is read: products in `branches`, in `full_product_names` and in
`relationships`. Choices where the standard leaves them to a consumer:

* A branch product's name is its vendor and product name (`product_name`, else
  `product_family`); its version comes from `product_version`, `service_pack` and
  `patch_level` branches (Cisco's service packs name whole versions, so the last one and all of
  them joined are both accepted), its range from `product_version_range` (`vers`, or a bare
  range read as `vers:generic`). `architecture`, `language`, `host_name`, `legacy` and
  `specification` branches narrow a product we cannot tell apart on a device, and are ignored.
* A product without a version anywhere is affected in every version.
* A `purl` or `cpe` in `product_identification_helper` makes the product a package: SBOM
  components are matched by it, at the version the helper names when the tree names none.
* A relationship's product ("firmware 2.4 installed on M2") is its component, matched in SBOMs,
  and its platform at the platform's own version, else at the component's: so a device model
  is affected when it runs that firmware.
* Status: `known_affected` products are affected as named; `first_affected`, `last_affected`
  and `first_fixed` (else `fixed`) versions of one product are read as a timeline, like OSV
  events: from a first affected version up to the first fixed one, or up to and including
  the last affected one. `fixed` alone, `known_not_affected`, `recommended` and
  `under_investigation` flag nothing.
* Severity: the most severe of every score (`cvss_v3` rating or score, `cvss_v2` score in
  NVD's ratings), every `impact` threat whose details are a rating word (Red Hat's "Important")
  and `aggregate_severity`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from univers.version_range import RANGE_CLASS_BY_SCHEMES

from goodthings.security.advisories import severity as sev
from goodthings.security.advisories.model import Advisory, AdvisoryError, Range
from goodthings.security.advisories.osv import spans
from goodthings.security.advisories.packages import cpe_key, parse_purl, purl_key

_VERSIONS = ("product_version", "service_pack", "patch_level")
_NAMES = ("product_name", "product_family")
_AFFECTED = ("known_affected", "first_affected", "last_affected")


@dataclass(frozen=True)
class _Product:
    name: str
    versions: tuple[str, ...] = ()
    """Exact versions; empty with no `vers` means every version."""
    vers: str | None = None
    packages: tuple[str, ...] = ()
    scheme: str = "generic"

    def spec(self) -> str:
        if self.vers:
            return self.vers
        if self.versions:
            return f"vers:{self.scheme}/" + "|".join(self.versions)
        return f"vers:{self.scheme}/*"

    def ranges(self) -> Iterator[Range]:
        yield Range(self.name, self.spec())
        for key in self.packages:
            yield Range(self.name, self.spec(), key)


@dataclass
class _Tree:
    products: dict[str, _Product] = field(default_factory=dict)
    relationships: dict[str, tuple[str, str]] = field(default_factory=dict)
    """product id → (component id, platform id)."""


def parse_csaf(document: dict[str, Any]) -> Advisory:
    """A CSAF 2.0 document; raises KeyError or TypeError where a required field is missing."""
    meta = document["document"]
    tracking_id = str(meta["tracking"]["id"])
    tree = _read_tree(document.get("product_tree") or {})
    ranges: list[Range] = []
    ratings = [sev.from_word((meta.get("aggregate_severity") or {}).get("text"))]
    for vulnerability in document.get("vulnerabilities") or []:
        status = vulnerability.get("product_status") or {}
        for product_id in (
            pid for kind in (*_AFFECTED, "first_fixed", "fixed") for pid in status.get(kind, [])
        ):
            if product_id not in tree.products and product_id not in tree.relationships:
                raise AdvisoryError(f"{tracking_id}: product {product_id!r} is not in its tree")
        ranges += _affected(tree, status)
        for score in vulnerability.get("scores") or []:
            ratings.append(_score(score))
        for threat in vulnerability.get("threats") or []:
            if threat.get("category") == "impact":
                ratings.append(sev.from_word(threat.get("details")))
    urls = [ref.get("url") for ref in meta.get("references") or [] if ref.get("url")]
    return Advisory(
        id=tracking_id,
        format="csaf",
        summary=str(meta.get("title") or tracking_id),
        severity=sev.most_severe(ratings),
        url=urls[0] if urls else None,
        ranges=tuple(dict.fromkeys(ranges)),
    )


def _score(score: dict[str, Any]) -> str:
    v3 = score.get("cvss_v3") or {}
    v2 = score.get("cvss_v2") or {}
    ratings = [sev.from_word(v3.get("baseSeverity"))]
    if v3:
        ratings += [sev.from_score(v3.get("baseScore")), sev.from_vector(v3.get("vectorString"))]
    if v2:
        ratings += [sev.from_score(v2.get("baseScore"), version=2)]
    return sev.most_severe(ratings)


def _read_tree(tree: dict[str, Any]) -> _Tree:
    read = _Tree()
    _walk(tree.get("branches") or [], (), read)
    for product in tree.get("full_product_names") or []:
        read.products[str(product["product_id"])] = _product(str(product["name"]), (), product)
    for relation in tree.get("relationships") or []:
        product_id = str(relation["full_product_name"]["product_id"])
        read.relationships[product_id] = (
            str(relation["product_reference"]),
            str(relation["relates_to_product_reference"]),
        )
    return read


def _walk(branches: list[dict[str, Any]], path: tuple[tuple[str, str], ...], read: _Tree) -> None:
    for branch in branches:
        here = (*path, (str(branch.get("category", "")), str(branch.get("name", ""))))
        if "product" in branch:
            product = branch["product"]
            read.products[str(product["product_id"])] = _product(
                str(product["name"]), here, product
            )
        _walk(branch.get("branches") or [], here, read)


def _product(
    full_name: str, path: tuple[tuple[str, str], ...], product: dict[str, Any]
) -> _Product:
    vendor = [name for category, name in path if category == "vendor"]
    names = [name for category, name in path if category == "product_name"] or [
        name for category, name in path if category == "product_family"
    ]
    versions = [name for category, name in path if category in _VERSIONS]
    ranges = [name for category, name in path if category == "product_version_range"]
    helper = product.get("product_identification_helper") or {}
    packages: list[str] = []
    helper_versions: list[str] = []
    scheme = "generic"
    if purl := parse_purl(str(helper.get("purl") or "")):
        packages.append(purl_key(purl))
        helper_versions += [purl.version] if purl.version else []
        scheme = purl.type if purl.type in RANGE_CLASS_BY_SCHEMES else scheme
    if (cpe := cpe_key(str(helper.get("cpe") or ""))) is not None:
        packages.append(cpe[0])
        helper_versions += [cpe[1]] if cpe[1] else []
    name = " ".join([*vendor[:1], names[-1]]) if names else full_name
    vers = None
    if ranges:
        bare = ranges[-1].replace(" ", "")
        vers = bare if bare.startswith("vers:") else f"vers:{scheme}/{bare}"
    exact: tuple[str, ...] = ()
    if versions:
        exact = tuple(dict.fromkeys([versions[-1], " ".join(versions)]))
    elif not vers:
        exact = tuple(dict.fromkeys(helper_versions))
    return _Product(name, exact, vers, tuple(packages), scheme)


def _resolve(tree: _Tree, product_id: str, depth: int = 0) -> Iterator[_Product]:
    """The products a status entry means: itself, or a relationship's component and platform."""
    if product_id in tree.products:
        yield tree.products[product_id]
    elif product_id in tree.relationships and depth < 8:
        component_id, platform_id = tree.relationships[product_id]
        components = list(_resolve(tree, component_id, depth + 1))
        yield from components
        for platform in _resolve(tree, platform_id, depth + 1):
            if platform.versions or platform.vers:
                yield _Product(platform.name, platform.versions, platform.vers, (), platform.scheme)
            for component in components:
                yield _Product(
                    platform.name, component.versions, component.vers, (), component.scheme
                )


def _affected(tree: _Tree, status: dict[str, list[str]]) -> Iterator[Range]:
    timelines: dict[tuple[str, tuple[str, ...], str], list[dict[str, str]]] = {}
    fixed_kind = "first_fixed" if status.get("first_fixed") else "fixed"
    event_of = {
        "first_affected": "introduced",
        "last_affected": "last_affected",
        fixed_kind: "fixed",
    }
    for kind in (*_AFFECTED, fixed_kind):
        for product_id in status.get(kind, []):
            for product in _resolve(tree, product_id):
                if kind == "known_affected" or (kind in _AFFECTED and not product.versions):
                    yield from product.ranges()
                elif kind in event_of and product.versions:
                    key = (product.name, product.packages, product.scheme)
                    timelines.setdefault(key, []).append({event_of[kind]: product.versions[0]})
    for (name, packages, scheme), events in timelines.items():
        if not any("fixed" not in event for event in events):
            continue  # only fixed versions: nothing said about what is affected
        if not any("introduced" in event for event in events):
            events.append({"introduced": "0"})
        for vers in spans(scheme, events):
            for package in (None, *packages):
                yield Range(name, vers, package)
