"""OSV read as specified: the schema's evaluation algorithm, ecosystems and their orderings.

Each record in data/ reproduces a case of the OSV schema's or osv.dev's test records that
goodthings once got wrong (see data/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisory_helpers import DATA, flagged
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.runtime.hub import Hub
from goodthings.security.advisories import (
    affected_devices,
    list_advisories,
    read_advisory,
    store_advisory,
)
from goodthings.security.advisories.osv import spans
from templates import init_from_template


@pytest.mark.parametrize("firmware", ["0.1", "5.1.0", "99"])
def test_introduced_zero_and_no_fix_affects_every_version(smart_home: Hub, firmware: str) -> None:
    found = flagged(smart_home, "osv-introduced-zero.json", firmware={"thermostat-1": firmware})
    assert found == {("GT-2026-0101", "thermostat-1", f"firmware {firmware}")}


def test_git_ranges_are_not_compared_as_versions(smart_home: Hub) -> None:
    advisory = read_advisory(DATA / "osv-git.json")
    assert [r.vers for r in advisory.ranges] == ["vers:generic/5.0.2"]  # only `versions`
    assert "GIT commit ranges are not compared with versions" in advisory.notes
    assert flagged(smart_home, "osv-git.json") == set()  # 5.1.0: not listed
    assert flagged(smart_home, "osv-git.json", firmware={"thermostat-1": "5.0.2"}) == {
        ("GT-2026-0102", "thermostat-1", "firmware 5.0.2")
    }


def test_a_withdrawn_record_flags_nothing_and_says_so(smart_home: Hub) -> None:
    assert flagged(smart_home, "osv-withdrawn.json") == set()
    with smart_home.engine.connect() as connection:
        [listed] = list_advisories(connection)
    assert listed.id == "GT-2026-0103" and listed.withdrawn is not None


@pytest.mark.parametrize(
    ("firmware", "affected"), [("4.9.0", False), ("5.0.0", True), ("5.0.2", True), ("5.1.0", False)]
)
def test_events_are_sorted_before_evaluation(
    smart_home: Hub, firmware: str, affected: bool
) -> None:
    found = flagged(smart_home, "osv-unsorted.json", firmware={"thermostat-1": firmware})
    assert bool(found) is affected


def test_a_record_without_affected_is_read(smart_home: Hub) -> None:
    advisory = read_advisory(DATA / "osv-no-affected.json")
    assert (advisory.id, advisory.ranges) == ("GT-2026-0105", ())
    assert flagged(smart_home, "osv-no-affected.json") == set()


@pytest.mark.parametrize(
    ("name", "severity"),
    [
        ("osv-severity.json", "critical"),  # CVSS:3.1 vector, 9.8
        ("osv-pypi-requests.json", "high"),  # CVSS:4.0 vector, 8.7
        ("osv-unsorted.json", "unknown"),
    ],
)
def test_the_standard_severity_field_is_scored(name: str, severity: str) -> None:
    assert read_advisory(DATA / name).severity == severity


def test_a_package_of_an_ecosystem_never_matches_a_device_model_by_name(
    smart_home: Hub,
) -> None:
    # A PyPI package named like a device model is not that model.
    text = (DATA / "osv-pypi-requests.json").read_text()
    advisory = read_advisory(DATA / "osv-pypi-requests.json")
    assert "PyPI" in text and [r.package for r in advisory.ranges] == ["pkg:pypi/requests"]
    assert flagged(smart_home, "osv-pypi-requests.json", "osv-npm-requests.json") == set()


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        ([{"introduced": "0"}], ["vers:pypi/*"]),
        ([{"introduced": "0"}, {"fixed": "1.0.2"}], ["vers:pypi/<1.0.2"]),
        (
            [
                {"introduced": "1.0.0"},
                {"fixed": "1.0.2"},
                {"introduced": "3.0.0"},
                {"fixed": "3.2.5"},
            ],
            ["vers:pypi/>=1.0.0|<1.0.2", "vers:pypi/>=3.0.0|<3.2.5"],
        ),
        ([{"introduced": "0"}, {"last_affected": "2.1.214"}], ["vers:pypi/<=2.1.214"]),
        ([{"fixed": "1.10"}, {"introduced": "1.9"}], ["vers:pypi/>=1.9|<1.10"]),  # 1.10 > 1.9
        ([{"introduced": "1.0"}, {"limit": "2.0"}], ["vers:pypi/>=1.0|<2.0"]),
        ([{"introduced": "3.0"}, {"limit": "2.0"}], []),  # nothing before the limit
    ],
)
def test_events_become_ranges_as_the_schema_evaluates_them(
    events: list[dict[str, str]], expected: list[str]
) -> None:
    # The schema's own examples (Unfixed, Fixed, Multiple range, last_affected) and more.
    assert list(spans("pypi", events)) == expected


def test_a_purl_of_an_unknown_ecosystem_still_names_the_device_model(
    smart_home: Hub, tmp_path: Path
) -> None:
    record = json.loads((DATA / "osv-introduced-zero.json").read_text())
    record["affected"][0]["package"]["purl"] = "pkg:generic/thermia/t5-room-thermostat"
    (tmp_path / "record.json").write_text(json.dumps(record))
    advisory = read_advisory(tmp_path / "record.json")
    assert {r.package for r in advisory.ranges} == {None, "pkg:generic/thermia/t5-room-thermostat"}
    with smart_home.engine.begin() as connection:
        store_advisory(connection, advisory)
    with smart_home.engine.connect() as connection:
        assert [a.device for a in affected_devices(connection)] == ["thermostat-1"]


def test_import_and_list_say_what_cannot_match_and_what_was_withdrawn(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    init_from_template(home, "smart-home")
    where = ["--home", str(home.root)]
    files = [
        str(DATA / name) for name in ("osv-git.json", "osv-withdrawn.json", "osv-unsorted.json")
    ]
    imported = run(capsys, "advisories", "import", *files, *where)
    assert imported.code == 0, imported.err
    assert "  note: GIT commit ranges are not compared with versions" in imported.out
    assert "  note: an affected entry names no package, so it matches nothing" in imported.out
    assert "GT-2026-0103 (osv, unknown): WattWise M2: reported in error\n" in imported.out
    assert "  withdrawn on 2026-11-03: it affects nothing" in imported.out
    listed = run(capsys, "advisories", "list", *where).out
    assert listed.index("GT-2026-0104") < listed.index("GT-2026-0103")  # withdrawn ones last
    assert "withdrawn on 2026-11-03: it affects nothing" in listed
    report = json.loads(run(capsys, "advisories", "list", "--json", *where).out)
    withdrawn = {a["id"]: a["withdrawn"] for a in report["advisories"]}
    assert withdrawn["GT-2026-0102"] is None
    assert withdrawn["GT-2026-0103"].startswith("2026-11-03T00:00:00")
