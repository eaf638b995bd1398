"""A MUD file's structure checked against RFC 8520 and RFC 8519, with the JSON path of each
mistake, and its access lists read as rules a person can follow.

What is checked (the parts a gateway needs; other YANG leaves are passed over):

* `ietf-mud:mud` is an object with `mud-version` 1, an `https://` `mud-url`, a `last-update`,
  `is-supported` (a boolean), and `from-device-policy` / `to-device-policy` naming access lists
  in `access-lists.access-list[].name` (RFC 8520 §2.1, §2.2).
* `ietf-access-control-list:acls.acl[]` (or `…:access-lists`, the drafts' name) each has a `name`, a `type` and `aces.ace[]`; each ace
  has a `name`, `matches` and `actions.forwarding` of `accept`, `drop` or `reject`
  (RFC 8519 §4.1). Every list a policy names exists.
* A match names a peer by DNS name (`ietf-acldns:src-dnsname`/`dst-dnsname`, RFC 8520 §9), by
  address (`source-ipv4-network`, …), or by MUD class (`ietf-mud:mud` with `controller`,
  `my-controller`, `local-networks`, `same-manufacturer`, `manufacturer` or `model`, §8), and a
  protocol by `tcp`/`udp` ports (`destination-port.operator: eq` and `port`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from goodthings.core.errors import GoodthingsError

_MUD = "ietf-mud:mud"
_ACLS = "ietf-access-control-list:acls"
_ACLS_DRAFT = "ietf-access-control-list:access-lists"
"""The name drafts of RFC 8519 used, still in many published MUD files (MUD Maker's among them)."""
_FORWARDING = {"accept", "drop", "reject"}
_CLASSES = {
    "controller": "the controller {}",
    "my-controller": "its local controller",
    "local-networks": "devices on the local network",
    "same-manufacturer": "other devices of the same maker",
    "manufacturer": "devices of the maker {}",
    "model": "devices of the model {}",
}


class MudError(GoodthingsError):
    """A MUD file that does not follow RFC 8520; each problem names its JSON path."""

    def __init__(self, file: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{file}: " + "; ".join(problems))


@dataclass(frozen=True)
class Rule:
    direction: str
    """`from-device` or `to-device`."""
    peer: str
    protocol: str | None
    port: int | None
    action: str
    replies: bool = False
    """A to-device rule for answers to connections the device opened (RFC 8520 §3.7)."""

    def words(self) -> str:
        verb = "may" if self.action == "accept" else "may not"
        towards = "talk to" if self.direction == "from-device" else "be reached by"
        if self.replies:
            towards = "get answers from"
        over = f" over {self.protocol.upper()}" if self.protocol else ""
        port = f" port {self.port}" if self.port is not None else ""
        return f"{verb} {towards} {self.peer}{over}{port}"


@dataclass(frozen=True)
class MudFile:
    url: str
    systeminfo: str | None
    supported: bool
    rules: tuple[Rule, ...]


def load_mud(path: Path) -> MudFile:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise MudError(str(path), [f"$: not a JSON file ({error})"]) from None
    return check_mud(data, str(path))


def check_mud(data: Any, file: str = "mud.json") -> MudFile:
    """The MUD file's rules, or MudError listing every problem with its JSON path."""
    problems: list[str] = []
    mud = _object(data, "$", problems) and _object(data.get(_MUD), f"$['{_MUD}']", problems)
    key = _ACLS_DRAFT if isinstance(data, dict) and _ACLS_DRAFT in data else _ACLS
    acls = _object(data, "$", []) and _object(data.get(key), f"$['{key}']", problems)
    if not mud:
        raise MudError(file, problems)
    where = f"$['{_MUD}']"
    if mud.get("mud-version") != 1:
        problems.append(f"{where}.mud-version: must be 1 (RFC 8520 §2.1)")
    url = mud.get("mud-url")
    if not isinstance(url, str) or not url.startswith("https://"):
        problems.append(f"{where}.mud-url: must be the file's own https:// address")
    if not isinstance(mud.get("last-update"), str):
        problems.append(
            f"{where}.last-update: must be a date and time, such as 2026-05-03T14:02:00Z"
        )
    if not isinstance(mud.get("is-supported"), bool):
        problems.append(f"{where}.is-supported: must be true or false")
    lists = dict(_acls(acls, key, problems)) if acls else {}
    rules: list[Rule] = []
    for direction in ("from-device", "to-device"):
        policy = mud.get(f"{direction}-policy")
        if policy is None:
            continue
        path = f"{where}.{direction}-policy.access-lists.access-list"
        named = (
            policy.get("access-lists", {}).get("access-list") if isinstance(policy, dict) else None
        )
        if not isinstance(named, list):
            problems.append(f'{path}: must be a list of {{"name": …}}')
            continue
        for index, entry in enumerate(named):
            name = entry.get("name") if isinstance(entry, dict) else None
            if name not in lists:
                known = ", ".join(sorted(lists)) or "none"
                problems.append(f"{path}[{index}].name: no access list {name!r} (known: {known})")
                continue
            rules.extend(_rules(direction, lists[name]))
    if problems:
        raise MudError(file, problems)
    assert isinstance(url, str)
    info = mud.get("systeminfo")
    return MudFile(
        url, info if isinstance(info, str) else None, bool(mud["is-supported"]), tuple(rules)
    )


def _object(value: Any, path: str, problems: list[str]) -> dict[str, Any] | None:
    if isinstance(value, dict):
        return value
    problems.append(f"{path}: must be an object")
    return None


def _acls(
    acls: Mapping[str, Any], key: str, problems: list[str]
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    base = f"$['{key}'].acl"
    entries = acls.get("acl")
    if not isinstance(entries, list):
        problems.append(f"{base}: must be a list of access lists")
        return
    for a, acl in enumerate(entries):
        path = f"{base}[{a}]"
        if not isinstance(acl, dict) or not isinstance(acl.get("name"), str):
            problems.append(f"{path}.name: every access list needs a name")
            continue
        if "access-list-entries" in acl or "acl-type" in acl:
            problems.append(
                f"{path}: uses acl-type and access-list-entries, the leaves of the drafts "
                "before RFC 8519 (now type and aces.ace); ask the maker for an RFC 8520 file"
            )
            continue
        if not isinstance(acl.get("type"), str):
            problems.append(f"{path}.type: must name the list's type, such as ipv4-acl-type")
        aces = acl.get("aces", {}).get("ace") if isinstance(acl.get("aces"), dict) else None
        if not isinstance(aces, list):
            problems.append(f"{path}.aces.ace: must be a list of entries")
            continue
        good = []
        for e, ace in enumerate(aces):
            where = f"{path}.aces.ace[{e}]"
            if not isinstance(ace, dict) or not isinstance(ace.get("name"), str):
                problems.append(f"{where}.name: every entry needs a name")
                continue
            forwarding = (ace.get("actions") or {}).get("forwarding")
            if forwarding not in _FORWARDING:
                problems.append(
                    f"{where}.actions.forwarding: must be accept, drop or reject (RFC 8519 §4.1)"
                )
                continue
            if not isinstance(ace.get("matches"), dict):
                problems.append(f"{where}.matches: must say what the entry matches")
                continue
            good.append(ace)
        yield acl["name"], good


def _rules(direction: str, aces: list[dict[str, Any]]) -> Iterator[Rule]:
    for ace in aces:
        matches = ace["matches"]
        action = ace["actions"]["forwarding"]
        protocol, port, replies = None, None, False
        for name in ("tcp", "udp"):
            if isinstance(matches.get(name), dict):
                protocol = name
                initiated = matches[name].get("ietf-mud:direction-initiated")
                replies = direction == "to-device" and initiated == "from-device"
                ports = matches[name].get("destination-port") or matches[name].get("source-port")
                if isinstance(ports, dict) and isinstance(ports.get("port"), int):
                    port = ports["port"]
        yield Rule(direction, _peer(matches, direction), protocol, port, action, replies)


def _peer(matches: Mapping[str, Any], direction: str) -> str:
    for family in ("ipv4", "ipv6"):
        found = matches.get(family)
        if not isinstance(found, dict):
            continue
        key = "dst-dnsname" if direction == "from-device" else "src-dnsname"
        name = found.get(f"ietf-acldns:{key}")
        if isinstance(name, str):
            return name
        network = found.get("destination-ipv4-network") or found.get("source-ipv4-network")
        network = (
            network or found.get("destination-ipv6-network") or found.get("source-ipv6-network")
        )
        if isinstance(network, str):
            return network
    mud = matches.get("ietf-mud:mud")
    if isinstance(mud, dict):
        for key, words in _CLASSES.items():
            if key in mud:
                value = mud[key]
                return words.format(value) if isinstance(value, str) else words.format("").strip()
    return "anything"
