"""CSAF 2.0 read as specified: the whole product tree, every affected status, every score.

Each document in data/ reproduces a case of the OASIS CSAF 2.0 validator's test files or
examples that goodthings once got wrong (see data/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisory_helpers import DATA, flagged
from goodthings.runtime.hub import Hub
from goodthings.security.advisories import AdvisoryError, read_advisory


def test_a_product_in_full_product_names_is_found(smart_home: Hub) -> None:
    # Seven valid validator files list their product only in full_product_names.
    advisory = read_advisory(DATA / "csaf-full-product-names.json")
    assert [(r.product, r.vers) for r in advisory.ranges] == [
        ("WattWise M2 smart meter clamp", "vers:generic/*")
    ]
    assert flagged(smart_home, "csaf-full-product-names.json") == {
        ("WW-SA-2026-11", "meter-1", "firmware 2.4.0")
    }


def test_a_relationship_flags_the_platform_running_the_affected_firmware(
    smart_home: Hub,
) -> None:
    found = flagged(smart_home, "csaf-relationships.json", firmware={"thermostat-1": "5.0.2"})
    assert found == {("TH-SA-2026-03", "thermostat-1", "firmware 5.0.2")}


def test_a_relationship_spares_the_platform_on_the_fixed_firmware(smart_home: Hub) -> None:
    assert flagged(smart_home, "csaf-relationships.json") == set()  # thermostat-1 runs 5.1.0


@pytest.mark.parametrize(
    ("firmware", "affected"), [("5.0.2", True), ("5.0.1", True), ("5.1.0", False), ("5.0", False)]
)
def test_service_packs_are_versions_not_every_version(
    smart_home: Hub, firmware: str, affected: bool
) -> None:
    # Cisco's advisory gave 259 ranges of "every version" when service_pack was not read.
    found = flagged(smart_home, "csaf-service-pack.json", firmware={"thermostat-1": firmware})
    assert bool(found) is affected
    assert all(
        not r.vers.endswith("/*") for r in read_advisory(DATA / "csaf-service-pack.json").ranges
    )


@pytest.mark.parametrize(
    ("device", "firmware", "affected"),
    [
        ("thermostat-1", "5.0.0", False),  # before the first affected version
        ("thermostat-1", "5.0.1", True),  # first_affected
        ("thermostat-1", "5.0.9", True),
        ("thermostat-1", "5.1.0", False),  # first_fixed
        ("meter-1", "2.3.1", True),  # last_affected
        ("meter-1", "2.2.0", True),
        ("meter-1", "2.4.0", False),
    ],
)
def test_first_and_last_affected_bound_the_versions(
    smart_home: Hub, device: str, firmware: str, affected: bool
) -> None:
    found = flagged(smart_home, "csaf-first-last-affected.json", firmware={device: firmware})
    assert ((("CERT-2026-0042", device, f"firmware {firmware}")) in found) is affected


@pytest.mark.parametrize(
    ("name", "severity"),
    [
        ("csaf-cvss-v2.json", "high"),  # CVSS v2 7.5, in NVD's ratings
        ("csaf-red-hat-rating.json", "high"),  # "Important"
        ("csaf-service-pack.json", "medium"),  # CVSS v3 6.5
        ("csaf-full-product-names.json", "unknown"),  # no score at all
    ],
)
def test_every_score_and_rating_counts(name: str, severity: str) -> None:
    assert read_advisory(DATA / name).severity == severity


def test_a_product_id_missing_from_the_tree_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    text = (
        (DATA / "csaf-cvss-v2.json")
        .read_text()
        .replace('"known_affected": ["M2"]', '"known_affected": ["M3"]')
    )
    broken.write_text(text)
    with pytest.raises(AdvisoryError, match="product 'M3' is not in its tree") as raised:
        read_advisory(broken)
    assert str(raised.value).startswith(f"{broken}: WW-SA-2014-01: ")


def test_a_bare_version_range_with_spaces_is_read(smart_home: Hub, tmp_path: Path) -> None:
    document = json.loads((DATA.parent.parent / "data" / "csaf-wattwise.json").read_text())
    leaf = document["product_tree"]["branches"][0]["branches"][0]["branches"][0]
    leaf["name"] = ">= 2.0.0 | <= 2.4.0"
    (tmp_path / "advisory.json").write_text(json.dumps(document))
    [vers] = {r.vers for r in read_advisory(tmp_path / "advisory.json").ranges}
    assert vers == "vers:generic/>=2.0.0|<=2.4.0"
