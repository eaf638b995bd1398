"""Who may do what on the broker: one set of rules, enforced by Mosquitto and by amqtt.

A device may publish only to `gt/<id>/up` and `gt/<id>/birth` and subscribe only to
`gt/<id>/policy` and `gt/<id>/down`; the hub may subscribe to every device's `up` and `birth`
(shared or not) and publish
policies and downlinks; anyone else may do nothing. On Mosquitto the rules become per-device
clients and roles of the dynamic-security plugin, managed over its control topic
(`DynamicSecurity`); the embedded amqtt broker checks the same rules through the plugins in
`security/amqtt_access.py`.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Connection, select

from goodthings.core.config import Settings
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import read_secret, write_secret
from goodthings.core.lifecycle import Lifecycle
from goodthings.core.store import tables as t
from goodthings.security.broker_tls import broker_context

HUB_USERNAME = "goodthings-hub"
HUB_ROLE = "goodthings-hub"
SHARE_GROUP = "goodthings"
CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = f"{CONTROL_TOPIC}/response"
HUB_PASSWORD_FILE = "mqtt-hub.password"  # noqa: S105 (a file name)


class BrokerAclError(GoodthingsError):
    """The broker refused or did not answer an access-control command."""


class AclType(StrEnum):
    """Mosquitto dynamic-security ACL types (the ones goodthings uses)."""

    publish = "publishClientSend"
    receive = "publishClientReceive"
    subscribe_literal = "subscribeLiteral"
    subscribe_pattern = "subscribePattern"


@dataclass(frozen=True)
class Acl:
    kind: AclType
    topic: str


def device_role(device_id: str) -> str:
    return f"gt-device-{device_id}"


def device_acls(device_id: str) -> tuple[Acl, ...]:
    base = f"gt/{device_id}"
    return (
        Acl(AclType.publish, f"{base}/up"),
        Acl(AclType.publish, f"{base}/birth"),
        Acl(AclType.subscribe_literal, f"{base}/policy"),
        Acl(AclType.subscribe_literal, f"{base}/down"),
        Acl(AclType.receive, f"{base}/policy"),
        Acl(AclType.receive, f"{base}/down"),
    )


HUB_ACLS: tuple[Acl, ...] = (
    Acl(AclType.subscribe_pattern, "gt/+/up"),
    Acl(AclType.subscribe_pattern, f"$share/{SHARE_GROUP}/gt/+/up"),
    Acl(AclType.receive, "gt/+/up"),
    Acl(AclType.subscribe_pattern, "gt/+/birth"),
    Acl(AclType.subscribe_pattern, f"$share/{SHARE_GROUP}/gt/+/birth"),
    Acl(AclType.receive, "gt/+/birth"),
    Acl(AclType.publish, "gt/+/policy"),
    Acl(AclType.publish, "gt/+/down"),
)


def _matches(topic: str, pattern: str) -> bool:
    """MQTT topic matching of a topic name against an ACL topic with + and # wildcards."""
    names, levels = topic.split("/"), pattern.split("/")
    for index, level in enumerate(levels):
        if level == "#":
            return True
        if index >= len(names) or (level != "+" and level != names[index]):
            return False
    return len(names) == len(levels)


def acls_for(username: str | None, hub_username: str = HUB_USERNAME) -> tuple[Acl, ...]:
    if username is None:
        return ()
    return HUB_ACLS if username == hub_username else device_acls(username)


def may_publish(acls: Sequence[Acl], topic: str) -> bool:
    return any(acl.kind is AclType.publish and _matches(topic, acl.topic) for acl in acls)


def may_receive(acls: Sequence[Acl], topic: str) -> bool:
    return any(acl.kind is AclType.receive and _matches(topic, acl.topic) for acl in acls)


def may_subscribe(acls: Sequence[Acl], topic_filter: str) -> bool:
    """A filter is allowed only as written in an ACL: `gt/+/up` does not grant `gt/#`."""
    return any(
        acl.kind in (AclType.subscribe_literal, AclType.subscribe_pattern)
        and topic_filter == acl.topic
        for acl in acls
    )


def new_hub_password() -> str:
    return secrets.token_urlsafe(32)


class DynamicSecurity(Lifecycle):
    """An admin session with Mosquitto's dynamic-security plugin, over its control topic."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        tls: ssl.SSLContext | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()
        self._answer: dict[str, Any] | None = None
        self._answered = threading.Event()
        self._ready = threading.Event()
        self._problem = "no answer"
        self._host, self._port = host, port
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"goodthings-admin-{secrets.token_hex(4)}",
            protocol=paho.MQTTv5,
        )
        client.username_pw_set(username, password)
        if tls is not None:
            client.tls_set_context(tls)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self._client = client

    def start(self) -> None:
        """Log in as the admin; return once the broker's answers can be received."""
        self._client.connect(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if not self._ready.wait(self._timeout):
            self._client.loop_stop()
            raise BrokerAclError(
                f"could not administer the broker at {self._host}:{self._port}: {self._problem}"
            )

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if reason.is_failure:
            self._problem = f"the broker refused the admin login ({reason})"
            return
        client.subscribe(RESPONSE_TOPIC, qos=1)

    def _on_subscribe(
        self, _client: paho.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any
    ) -> None:
        if all(not reason.is_failure for reason in reasons):
            self._ready.set()
        else:
            self._problem = "the admin may not subscribe to the dynamic-security responses"

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            self._answer = json.loads(message.payload)
        except ValueError:
            self._answer = None
        self._answered.set()

    def run(self, *commands: dict[str, Any], tolerate: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Send commands in one request; raise on any error not named in `tolerate`."""
        with self._lock:
            self._answered.clear()
            self._answer = None
            payload = json.dumps({"commands": list(commands)})
            self._client.publish(CONTROL_TOPIC, payload, qos=1)
            if not self._answered.wait(self._timeout) or self._answer is None:
                raise BrokerAclError(
                    "the broker did not answer the dynamic-security command; is the "
                    "mosquitto_dynamic_security plugin loaded?"
                )
            responses: list[dict[str, Any]] = self._answer.get("responses", [])
        for response in responses:
            error = response.get("error")
            if error and not any(allowed in error for allowed in tolerate):
                raise BrokerAclError(f"the broker refused {response.get('command')}: {error}")
        return responses

    def lock_down(self) -> None:
        """Deny by default: clients publish and subscribe only where a role allows it."""
        self.run(
            *(
                {"command": "setDefaultACLAccess", "acls": [{"acltype": kind, "allow": allow}]}
                for kind, allow in (
                    ("publishClientSend", False),
                    ("publishClientReceive", False),
                    ("subscribe", False),
                    ("unsubscribe", True),
                )
            )
        )

    def _ensure_role(self, role: str, acls: Sequence[Acl]) -> None:
        self.run({"command": "deleteRole", "rolename": role}, tolerate=("not found",))
        self.run(
            {
                "command": "createRole",
                "rolename": role,
                "acls": [
                    {"acltype": acl.kind.value, "topic": acl.topic, "allow": True} for acl in acls
                ],
            }
        )

    def _ensure_client(self, username: str, password: str, role: str) -> None:
        created = self.run(
            {
                "command": "createClient",
                "username": username,
                "password": password,
                "roles": [{"rolename": role}],
            },
            tolerate=("already exists",),
        )
        if created and created[0].get("error"):
            self.run(
                {"command": "setClientPassword", "username": username, "password": password},
                {"command": "addClientRole", "username": username, "rolename": role},
                {"command": "enableClient", "username": username},
                tolerate=("already",),
            )

    def provision_hub(self, password: str, username: str = HUB_USERNAME) -> None:
        """The hub's own client: read every device's `up`, publish policies and downlinks."""
        self._ensure_role(HUB_ROLE, HUB_ACLS)
        self._ensure_client(username, password, HUB_ROLE)

    def provision_device(self, device_id: str, password: str) -> None:
        """A client for the device (username = device id) that may use its own topics only."""
        role = device_role(device_id)
        self._ensure_role(role, device_acls(device_id))
        self._ensure_client(device_id, password, role)

    def revoke_device(self, device_id: str) -> None:
        """Remove the device's client and role; its open connection is closed by the broker."""
        self.run(
            {"command": "deleteClient", "username": device_id},
            {"command": "deleteRole", "rolename": device_role(device_id)},
            tolerate=("not found",),
        )

    def disable_device(self, device_id: str) -> None:
        """Refuse the device's sign-ins and close its connection, keeping its client to enable."""
        self.run({"command": "disableClient", "username": device_id})

    def enable_device(self, device_id: str) -> None:
        self.run({"command": "enableClient", "username": device_id})

    def clients(self) -> list[str]:
        [response] = self.run({"command": "listClients", "verbose": False, "count": -1})
        return list(response.get("data", {}).get("clients", []))


def hub_broker_password(keys_dir: Path) -> str:
    """The hub's own MQTT password, made once (mode 0600) in the deployment's key directory."""
    path = keys_dir / HUB_PASSWORD_FILE
    if not path.exists():
        write_secret(path, new_hub_password().encode() + b"\n")
    return read_secret(path).decode().strip()


def admin_session(settings: Settings) -> DynamicSecurity | None:
    """An admin session with the configured Mosquitto, or None when none is configured."""
    if not (
        settings.mqtt_url and settings.mqtt_admin_username and settings.mqtt_admin_password_file
    ):
        return None
    url = urlsplit(settings.mqtt_url)
    password = read_secret(settings.mqtt_admin_password_file).decode().strip()
    tls = broker_context(settings.mqtt_ca) if url.scheme == "mqtts" else None
    return DynamicSecurity(
        url.hostname or "127.0.0.1",
        url.port or (8883 if tls else 1883),
        settings.mqtt_admin_username,
        password,
        tls=tls,
    )


class DynsecGate:
    """Quarantine on Mosquitto: each cut-off or restore in an admin session of its own (a
    quarantine is rare, and a session held open would need its own reconnecting)."""

    def __init__(self, session: Callable[[], DynamicSecurity | None]) -> None:
        self._session = session

    def cut_off(self, device_id: str) -> None:
        session = self._session()
        if session is not None:
            with session as dynsec:
                dynsec.disable_device(device_id)

    def restore(self, device_id: str) -> None:
        session = self._session()
        if session is not None:
            with session as dynsec:
                dynsec.enable_device(device_id)


def revoke_retired(connection: Connection, dynsec: DynamicSecurity) -> list[str]:
    """Remove the broker clients of devices that are retired or unknown; which were removed."""
    current = set(
        connection.execute(select(t.devices.c.id).where(t.devices.c.retired_at.is_(None)))
        .scalars()
        .all()
    )
    keep = current | {HUB_USERNAME, "admin"}
    gone = [client for client in dynsec.clients() if client not in keep]
    for client in gone:
        dynsec.revoke_device(client)
    return gone
