"""Topics Mosquitto denied a device, read from the lines of its log.

Mosquitto 2.0 tells no client, plugin or `$SYS` topic which client was denied what; its log is
the one place that says so. What 2.0.11 writes, found by experiment (`log_type all`):

* `New client connected from 127.0.0.1:51850 as cid-y (p2, c1, k60, u'meter-1').` (notice):
  the client id and the username it signed in with;
* `Denied PUBLISH from cid-y (d0, q1, r0, m1, 'gt/meter-2/up', ... (3 bytes))` (debug): a
  publish its ACLs refused, by client id;
* `Received SUBSCRIBE from cid-y` then one `\\tgt/# (QoS 0)` line per filter (debug): a denied
  subscription is *not* written as such (only the SUBACK's code says so), so each filter is
  checked here against the same rules the broker was given (`broker_acl`).

The parser keeps the client-id → username map as connections come and go; a client that
connected before the hub read the log is unknown and not counted (a reconnect makes it known).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from goodthings.security.broker_acl import HUB_USERNAME, acls_for, may_subscribe

_CONNECTED = re.compile(
    r"New client connected from \S+ as (?P<client>\S+) \(.*u'(?P<user>[^']*)'\)\.$"
)
_DENIED = re.compile(
    r"Denied PUBLISH from (?P<client>\S+) \(d\d, q\d, r\d, m\d+, '(?P<topic>.*)', \.\.\. \(\d+ bytes\)\)$"
)
_SUBSCRIBE = re.compile(r"Received SUBSCRIBE from (?P<client>\S+)$")
_FILTER = re.compile(r"\t(?P<topic>.*) \(QoS \d\)$")
_GONE = re.compile(r"Client (?P<client>\S+) (?:disconnected|closed its connection)")

_LINE_MAX = 4096
"""Longer lines are not Mosquitto's own (a topic is at most 64 KiB, ours far shorter)."""
_CLIENTS_MAX = 100_000
"""Client ids remembered at most: a broker with churn must not grow the hub's memory."""


@dataclass(frozen=True, slots=True)
class Denial:
    """The broker refused `username` to `action` ("publish" or "subscribe") on `topic`."""

    username: str
    action: str
    topic: str


class DenialParser:
    """Feed it Mosquitto's log lines in order; it yields the denials they show."""

    def __init__(self, hub_username: str = HUB_USERNAME) -> None:
        self._hub = hub_username
        self._users: dict[str, str] = {}
        self._subscribing: str | None = None
        """The username whose SUBSCRIBE's filters the next lines list."""

    def feed(self, line: str) -> Iterator[Denial]:
        # Most lines are the debug lines of ordinary messages: each is told apart by its first
        # words after the timestamp before any pattern is tried (the hub reads every line).
        line = line.rstrip("\r\n")
        stamp, _, rest = line.partition(": ")
        if len(line) > _LINE_MAX or not stamp.replace(".", "").isdigit():
            return
        if rest.startswith("\t"):
            found = _FILTER.match(rest)
            user = self._subscribing
            if found is not None and user is not None and user != self._hub:
                topic = found["topic"]
                if not may_subscribe(acls_for(user, self._hub), topic):
                    yield Denial(user, "subscribe", topic)
            return
        self._subscribing = None
        if rest.startswith("Denied PUBLISH "):
            if (found := _DENIED.match(rest)) is not None:
                user = self._users.get(found["client"])
                if user is not None and user != self._hub:
                    yield Denial(user, "publish", found["topic"])
        elif rest.startswith("Received SUBSCRIBE "):
            if (found := _SUBSCRIBE.match(rest)) is not None:
                self._subscribing = self._users.get(found["client"])
        elif rest.startswith("New client connected "):
            if (found := _CONNECTED.match(rest)) is not None:
                if len(self._users) >= _CLIENTS_MAX:
                    self._users.clear()
                self._users[found["client"]] = found["user"]
        elif rest.startswith("Client ") and (found := _GONE.match(rest)) is not None:
            self._users.pop(found["client"], None)
