"""A model's MUD file written from the manifest, and a MUD file compiled into nftables rules.

`generate` says what goodthings knows a device needs: its hub (the MQTT broker and HTTP
ingest), nothing else. `nft_ruleset` turns a MUD file's rules for one device address into an
`inet` table for the gateway in front of the devices (the `forward` hook) or the hub's own host
(`input`): replies to what the device was allowed to open are accepted, each allowed peer and
port is accepted, and everything else the device sends is dropped. Peers named by DNS are
resolved when the ruleset is made (nftables matches addresses); a name that does not resolve
is left out, and said so in a comment, so it stays forbidden.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from goodthings.security.mud.check import Rule

_PRIVATE = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
_CONTROLLER = {"its local controller", "the controller"}


def generate(
    *,
    model_id: str,
    systeminfo: str,
    mud_url: str,
    controller: str,
    ports: Sequence[int],
    supported: bool,
) -> dict[str, Any]:
    """A MUD file letting a model's devices open TCP connections to the hub's ports only."""
    name = f"{model_id}-from"
    aces = [
        {
            "name": f"hub-{port}",
            "matches": {
                "ipv4": {"ietf-acldns:dst-dnsname": controller, "protocol": 6},
                "tcp": {"destination-port": {"operator": "eq", "port": port}},
            },
            "actions": {"forwarding": "accept"},
        }
        for port in ports
    ]
    return {
        "ietf-mud:mud": {
            "mud-version": 1,
            "mud-url": mud_url,
            "last-update": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "cache-validity": 48,
            "is-supported": supported,
            "systeminfo": systeminfo,
            "from-device-policy": {"access-lists": {"access-list": [{"name": name}]}},
        },
        "ietf-access-control-list:acls": {
            "acl": [{"name": name, "type": "ipv4-acl-type", "aces": {"ace": aces}}]
        },
    }


def resolve(name: str) -> list[str]:
    """IPv4 addresses of a host name (an address stands for itself)."""
    try:
        return [str(ipaddress.IPv4Address(name))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(entry[4][0]) for entry in found})


def nft_ruleset(
    rules: Sequence[Rule],
    *,
    device: str,
    controller: str,
    table: str = "goodthings_mud",
    lookup: Callable[[str], list[str]] = resolve,
) -> str:
    """An `nft -f` ruleset enforcing `rules` for the device at address `device`."""
    source = str(ipaddress.IPv4Address(device))
    lines = [f"ip saddr {source} ct state established,related accept"]
    for rule in rules:
        if rule.direction != "from-device":
            continue
        peers = _addresses(rule.peer, controller, lookup)
        if not peers:
            lines.append(f"# {rule.peer}: no address found; not allowed")
            continue
        verdict = "accept" if rule.action == "accept" else "drop"
        port = ""
        if rule.protocol is not None:
            port = f" {rule.protocol} dport {rule.port}" if rule.port is not None else ""
            port = port or f" meta l4proto {rule.protocol}"
        lines.append(f"ip saddr {source} ip daddr {{ {', '.join(peers)} }}{port} {verdict}")
    lines.append(f"ip saddr {source} drop")
    body = "\n".join(f"    {line}" for line in lines)
    chains = "\n".join(
        f"  chain {hook} {{\n    type filter hook {hook} priority 0; policy accept;\n{body}\n  }}"
        for hook in ("forward", "input")
    )
    return f"table inet {table} {{\n{chains}\n}}\n"


def _addresses(peer: str, controller: str, lookup: Callable[[str], list[str]]) -> list[str]:
    if peer in _CONTROLLER or peer.startswith("the controller "):
        return lookup(controller)
    if peer == "devices on the local network":
        return list(_PRIVATE)
    try:
        return [str(ipaddress.ip_address(peer))]
    except ValueError:
        pass
    try:
        return [str(ipaddress.ip_network(peer, strict=False))]
    except ValueError:
        pass
    if " " in peer:
        return []  # a MUD class goodthings cannot turn into addresses (maker, model)
    return lookup(peer)
