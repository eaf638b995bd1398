"""`goodthings mud check`: a MUD file of our own read in plain words; each mistake by JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run
from goodthings.security.mud import MudError, check_mud

FILE = Path(__file__).parent / "data" / "mud" / "door-contact.json"
GOOD: dict[str, Any] = json.loads(FILE.read_text())


def test_a_valid_file_says_what_the_device_may_talk_to(capsys: pytest.CaptureFixture[str]) -> None:
    ran = run(capsys, "mud", "check", str(FILE))
    assert ran.code == 0, ran.err
    assert "a valid MUD file for OpenSense D1 door contact" in ran.out
    assert "the device may talk to cloud.opensense.example over TCP port 443" in ran.out
    assert "the device may be reached by its local controller over TCP port 8883" in ran.out


def _broken(edit: str) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    mud = data["ietf-mud:mud"]
    acl = data["ietf-access-control-list:acls"]["acl"]
    match edit:
        case "version":
            mud["mud-version"] = 2
        case "http":
            mud["mud-url"] = "http://opensense.example/mud/d1.json"
        case "missing list":
            mud["to-device-policy"]["access-lists"]["access-list"][0]["name"] = "d1-nope"
        case "forwarding":
            acl[0]["aces"]["ace"][0]["actions"]["forwarding"] = "allow"
        case "draft leaves":  # as in osMUD's own test files, written before RFC 8519
            acl[0]["acl-type"] = acl[0].pop("type")
            acl[0]["access-list-entries"] = acl[0].pop("aces")
    return data


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        ("version", "$['ietf-mud:mud'].mud-version: must be 1"),
        ("http", "$['ietf-mud:mud'].mud-url: must be the file's own https:// address"),
        (
            "missing list",
            "$['ietf-mud:mud'].to-device-policy.access-lists.access-list[0].name: no access "
            "list 'd1-nope'",
        ),
        (
            "draft leaves",
            "$['ietf-access-control-list:acls'].acl[0]: uses acl-type and access-list-entries, "
            "the leaves of the drafts before RFC 8519",
        ),
        (
            "forwarding",
            "$['ietf-access-control-list:acls'].acl[0].aces.ace[0].actions.forwarding: must be "
            "accept, drop or reject",
        ),
    ],
)
def test_each_mistake_is_named_by_its_json_path(edit: str, problem: str) -> None:
    with pytest.raises(MudError) as raised:
        check_mud(_broken(edit))
    assert any(found.startswith(problem) for found in raised.value.problems), raised.value.problems


def test_a_file_that_is_not_json_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    ran = run(capsys, "mud", "check", str(broken))
    assert ran.code == 1 and "$: not a JSON file" in ran.err


def test_the_drafts_name_for_the_access_lists_and_answers_to_the_device_are_read() -> None:
    data = copy.deepcopy(GOOD)
    data["ietf-access-control-list:access-lists"] = data.pop("ietf-access-control-list:acls")
    hub = data["ietf-access-control-list:access-lists"]["acl"][1]["aces"]["ace"][0]
    hub["matches"]["tcp"]["ietf-mud:direction-initiated"] = "from-device"
    words = [rule.words() for rule in check_mud(data).rules]
    assert words == [
        "may talk to cloud.opensense.example over TCP port 443",
        "may get answers from its local controller over TCP port 8883",
    ]
