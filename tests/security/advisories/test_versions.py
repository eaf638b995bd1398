"""Versions compared in each ecosystem's own ordering, and scores read as one severity."""

from __future__ import annotations

import pytest

from goodthings.security.advisories import in_range
from goodthings.security.advisories.packages import cpe_key, osv_package_key
from goodthings.security.advisories.severity import from_score, from_vector, from_word


@pytest.mark.parametrize(
    ("version", "vers", "inside"),
    [
        ("1.1.1k-9.el8", "vers:rpm/<1:1.1.1k-7.el8_6", True),  # epoch 0 sorts below epoch 1
        ("1:1.1.1k-5.el8", "vers:rpm/<1:1.1.1k-7.el8_6", True),
        ("1:1.1.1k-7.el8_6", "vers:rpm/<1:1.1.1k-7.el8_6", False),
        ("2:1.0-1", "vers:rpm/<1:1.1.1k-7.el8_6", False),  # a higher epoch wins over the rest
        ("1.2.1-2.2+wheezy2", "vers:deb/<1.2.1-2.2+wheezy3", True),
        ("1:0.9-1", "vers:deb/<1.2.1-2.2+wheezy3", False),  # Debian epochs
        ("1.10.0", "vers:pypi/>=1.9|<1.11", True),
        ("2.0.0rc1", "vers:pypi/<2.0.0", True),  # a pre-release sorts before its release
        ("1.0.0-rc.1", "vers:semver/>=1.0.0", False),
        ("1.0.1", "vers:semver/>=1.0.0", True),
        ("12.2(55)SE", "vers:generic/12.2(55)SE|12.2SE 12.2(55)SE", True),  # equal text
        ("branch-v0.1.1", "vers:golang/branch-v0.1.1", True),  # OSV `versions`: equal strings
        ("2.10.0", "vers:generic/<=2.4.0", False),
        ("anything", "vers:generic/*", True),
        ("not a version", "vers:pypi/<1.0", False),  # unreadable in its ordering
    ],
)
def test_versions_follow_their_ecosystem(version: str, vers: str, inside: bool) -> None:
    assert in_range(version, vers) is inside


@pytest.mark.parametrize(
    ("ecosystem", "name", "purl", "key"),
    [
        ("PyPI", "Products.PluggableAuthService", None, "pkg:pypi/products-pluggableauthservice"),
        ("Maven", "org.apache.any23:apache-any23", None, "pkg:maven/org.apache.any23/apache-any23"),
        ("Go", "github.com/gin-gonic/gin", None, "pkg:golang/github.com/gin-gonic/gin"),
        ("Debian:11", "openssl", None, "pkg:deb/debian/openssl"),
        ("Alpine:v3.16", "mariadb", None, "pkg:apk/alpine/mariadb"),
        ("npm", "@babel/core", None, "pkg:npm/@babel/core"),
        ("Red Hat:rhel:8", "openssl", "pkg:rpm/redhat/openssl", "pkg:rpm/redhat/openssl"),
        ("Thermia firmware", "Thermia T5 room thermostat", None, None),
    ],
)
def test_osv_packages_get_their_package_keys(
    ecosystem: str, name: str, purl: str | None, key: str | None
) -> None:
    assert osv_package_key(ecosystem, name, purl) == key


def test_cpes_of_both_forms_name_the_same_package() -> None:
    assert cpe_key("cpe:2.3:a:zlib:zlib:1.2.11:*:*:*:*:*:*:*") == ("cpe:zlib:zlib", "1.2.11")
    assert cpe_key("cpe:/a:zlib:zlib:1.2.11") == ("cpe:zlib:zlib", "1.2.11")
    assert cpe_key("cpe:/a:redhat:openshift") == ("cpe:redhat:openshift", None)
    assert cpe_key("not a cpe") is None


@pytest.mark.parametrize(
    ("vector", "severity"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "critical"),
        ("CVSS:3.0/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "low"),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "high"),  # CVSS v2, 7.5
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:H/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N", "medium"),
        ("CVSS:3.1/garbage", "unknown"),
    ],
)
def test_cvss_vectors_are_scored(vector: str, severity: str) -> None:
    assert from_vector(vector) == severity


def test_scores_and_words() -> None:
    assert [from_score(s) for s in (9.0, 8.9, 4.0, 3.9, "x", 11)] == [
        "critical",
        "high",
        "medium",
        "low",
        "unknown",
        "unknown",
    ]
    assert from_score(9.3, version=2) == "high"  # CVSS v2 has no critical
    assert [from_word(w) for w in ("Important", "MODERATE", "negligible", "bad")] == [
        "high",
        "medium",
        "low",
        "unknown",
    ]
