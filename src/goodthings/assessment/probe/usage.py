"""A device's declared usage: the TCP ports its model's MUD file (RFC 8520) lets others open
to it. An open port the declared usage does not name is an interface nobody said was used,
which ETSI EN 303 645 provision 5.6-1 asks to be switched off.

Which device is at which address the hub does not know (a device reaches it by its
credentials, not its address), so the auditor says so (`goodthings probe --device
ADDRESS=MODEL`) and the model's MUD file is the one `goodthings mud fetch` kept in the
deployment's `mud/` folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from goodthings.core.errors import GoodthingsError
from goodthings.security.mud import MUD_FOLDER, MudFile, load_mud

COMMON_PORTS = (
    21, 22, 23, 53, 80, 81, 443, 554, 1883, 2323, 5000, 5555, 7547, 8000, 8080, 8081, 8443,
    8883, 9000, 49152,
)  # fmt: skip
"""TCP ports IoT devices are commonly found listening on (FTP, SSH, telnet, DNS, web pages,
RTSP cameras, MQTT, UPnP, Android debugging, TR-069): what the probe looks at on a device whose
declared usage it knows, besides its services' own ports and any `--port` given. A port not in
this list is not looked at unless it is given."""


@dataclass(frozen=True)
class DeclaredUsage:
    """The TCP ports a device may be reached on, and where that was declared."""

    source: str
    """In words: `model wattwise-m2`."""
    ports: frozenset[int] | None
    """None when the usage lets the device be reached on any TCP port."""

    @classmethod
    def of_mud(cls, mud: MudFile, source: str) -> DeclaredUsage:
        """The ports the MUD file's to-device rules accept connections to, replies to the
        device's own connections not counted (RFC 8520 §3.7: those open nothing on it)."""
        ports: set[int] = set()
        for rule in mud.rules:
            if rule.direction != "to-device" or rule.action != "accept" or rule.replies:
                continue
            if rule.protocol not in (None, "tcp"):
                continue
            if rule.port is None:
                return cls(source, None)
            ports.add(rule.port)
        return cls(source, frozenset(ports))

    def allows(self, port: int) -> bool:
        return self.ports is None or port in self.ports

    def in_words(self, address: str) -> str:
        if self.ports is None:
            named = "any"
        else:
            named = ", ".join(str(port) for port in sorted(self.ports)) or "none"
        return f"{address}: {self.source} (declared TCP ports: {named})"


def kept_usage(root: Path, model_id: str) -> DeclaredUsage:
    """A model's declared usage from the MUD file kept for it in the deployment."""
    path = root / MUD_FOLDER / f"{model_id}.json"
    if not path.exists():
        raise GoodthingsError(
            f"there is no MUD file kept for model {model_id!r} ({path}): fetch it with "
            f"`goodthings mud fetch {model_id}`, or write one with `goodthings mud generate "
            f"{model_id} --controller HUB > {path}` and add the ports the device is reached on"
        )
    return DeclaredUsage.of_mud(load_mud(path), f"model {model_id}")
