"""Who a package is and how its versions sort: OSV ecosystems, package URLs and CPEs as keys.

A *package key* names a package without its version, the same way whichever document it came
from, so an advisory's package and an SBOM's component meet on it: a package URL's type,
namespace and name (`pkg:deb/debian/openssl`), or a CPE's vendor and product
(`cpe:openssl:openssl`). Names are compared as each ecosystem defines: PyPI's are normalised
(PEP 503), the types whose names are case-insensitive are lowercased.

Each OSV ecosystem is given its purl type and its version ordering (a `univers` scheme), so
`2:1.0-1` sorts after `1.9` in RPM and `1.10` after `1.9` in PyPI. An ecosystem we do not know
(a manufacturer's own, "IoT firmware") has neither: its package is matched by name, and its
versions in the generic ordering, or SemVer's where the range says SEMVER.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packageurl import PackageURL
from univers.version_range import RANGE_CLASS_BY_SCHEMES, VersionRange
from univers.versions import SemverVersion


class SemverRange(VersionRange):
    """OSV's SEMVER ordering for ecosystems `univers` has no scheme of its own for."""

    scheme = "semver"  # type: ignore[assignment]
    version_class = SemverVersion  # type: ignore[assignment]


RANGE_CLASS_BY_SCHEMES.setdefault("semver", SemverRange)


@dataclass(frozen=True)
class Ecosystem:
    purl_type: str
    scheme: str
    """The `vers` scheme whose ordering the ecosystem's versions follow."""
    namespace: str | None = None


# OSV schema 1.7.5 "Defined ecosystems", by the name before any `:release` suffix.
_RPM = {
    "Red Hat": "redhat",
    "AlmaLinux": "almalinux",
    "Rocky Linux": "rocky-linux",
    "SUSE": "suse",
    "openSUSE": "opensuse",
    "Mageia": "mageia",
    "Photon OS": "photon",
    "openEuler": "openeuler",
    "Azure Linux": "azure-linux",
}
_APK = {"Alpine": "alpine", "Wolfi": "wolfi", "Chainguard": "chainguard", "MinimOS": "minimos"}
ECOSYSTEMS: dict[str, Ecosystem] = {
    "PyPI": Ecosystem("pypi", "pypi"),
    "npm": Ecosystem("npm", "npm"),
    "Maven": Ecosystem("maven", "maven"),
    "Go": Ecosystem("golang", "golang"),
    "crates.io": Ecosystem("cargo", "cargo"),
    "RubyGems": Ecosystem("gem", "gem"),
    "NuGet": Ecosystem("nuget", "nuget"),
    "Packagist": Ecosystem("composer", "composer"),
    "Hex": Ecosystem("hex", "hex"),
    "ConanCenter": Ecosystem("conan", "conan"),
    "Pub": Ecosystem("pub", "semver"),
    "Hackage": Ecosystem("hackage", "generic"),
    "CRAN": Ecosystem("cran", "generic"),
    "GitHub Actions": Ecosystem("github", "semver"),
    "Debian": Ecosystem("deb", "deb", "debian"),
    "Ubuntu": Ecosystem("deb", "deb", "ubuntu"),
    **{name: Ecosystem("rpm", "rpm", namespace) for name, namespace in _RPM.items()},
    **{name: Ecosystem("apk", "apk", namespace) for name, namespace in _APK.items()},
}
_CASE_INSENSITIVE = {"pypi", "npm", "deb", "rpm", "apk", "gem", "nuget", "composer", "hex"}


def ecosystem(name: str) -> Ecosystem | None:
    """The ecosystem of an OSV `package.ecosystem` such as `Debian:11` (release ignored)."""
    return ECOSYSTEMS.get(name.split(":", 1)[0].strip())


def purl_key(purl: PackageURL) -> str:
    """The package key of a package URL: type, namespace and name, as the type compares them."""
    kind = purl.type.lower()
    namespace = purl.namespace or ""
    name = purl.name
    if kind == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()
    elif kind in _CASE_INSENSITIVE:
        namespace, name = namespace.lower(), name.lower()
    return f"pkg:{kind}/{namespace}/{name}" if namespace else f"pkg:{kind}/{name}"


def parse_purl(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text.strip())
    except ValueError:
        return None


def osv_package_key(ecosystem_name: str, name: str, purl: str | None) -> str | None:
    """The key of an OSV package: from its purl, else from its ecosystem and name."""
    if purl and (parsed := parse_purl(purl)):
        return purl_key(parsed)
    known = ecosystem(ecosystem_name)
    if known is None or not name:
        return None
    namespace, _, short = name.rpartition("/")
    if known.purl_type == "maven":
        namespace, _, short = name.partition(":")
    elif known.namespace:
        namespace, short = known.namespace, name
    return purl_key(PackageURL(type=known.purl_type, namespace=namespace or None, name=short))


def cpe_key(cpe: str) -> tuple[str, str | None] | None:
    """(package key, version or None) of a CPE 2.2 URI or 2.3 formatted string."""
    text = cpe.strip()
    if text.startswith("cpe:2.3:"):
        parts = text.split(":")[3:]
    elif text.startswith("cpe:/"):
        parts = text[len("cpe:/") :].split(":")[1:]
    else:
        return None
    vendor, product, version = ([*parts, "", "", ""])[:3]
    if not vendor or not product or "*" in (vendor, product):
        return None
    known = None if version in ("", "*", "-") else version.replace("\\", "")
    return f"cpe:{vendor.lower()}:{product.lower()}", known
