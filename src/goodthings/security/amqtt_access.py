"""The embedded amqtt broker's sign-in and topic checks: the rules of `broker_acl`, in-process.

amqtt loads plugins by dotted path and hands each a `Config` built from the broker's config
dict, so the hub passes its `BrokerAccess` (which knows the hub's password and how to check a
device's credential) as a plain value of that config.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin

from goodthings.security.argon2_slots import Busy
from goodthings.security.broker_acl import (
    HUB_USERNAME,
    acls_for,
    may_publish,
    may_receive,
    may_subscribe,
)
from goodthings.security.lockout import Key, LockEvent, Lockout, Scope


@dataclass(frozen=True)
class BrokerAccess:
    """What the embedded broker needs to decide who may connect."""

    hub_password: str
    check_device: Callable[[str, str], bool]
    """(device id, secret) -> whether it is a live credential of that device (slow: argon2id)."""
    hub_username: str = HUB_USERNAME
    lockout: Lockout | None = None
    """Count failed sign-ins per device and per address, as HTTP ingest does."""
    on_lockout: Callable[[list[LockEvent]], None] | None = None
    """Called (on a worker thread) with each lockout started, to record it and alert."""
    is_quarantined: Callable[[str], bool] | None = None
    """Whether a device is quarantined: it may then neither sign in nor publish."""
    on_connect: Callable[[str], None] | None = None
    """Told of each device that signed in (the abuse monitor counts connections)."""
    on_denied: Callable[[str, str, str], object] | None = None
    """Told (on a worker thread) of each publish or subscription refused to a client that
    signed in: (username, "publish" or "subscribe", topic). The abuse monitor counts them."""


class DeviceAuthPlugin(BaseAuthPlugin):  # type: ignore[misc]
    """Only the hub (by its password) and devices (by their own credential) may connect."""

    @dataclass
    class Config:
        access: Any = None

    async def authenticate(self, *, session: Any) -> bool:
        access: BrokerAccess | None = self.config.access
        username, password = session.username, session.password
        if access is None or not username or password is None:
            return False
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        keys: tuple[Key, ...] = (
            (Scope.address, str(session.remote_address or "unknown")),
            (Scope.device, str(username)),
        )
        if access.lockout is not None and access.lockout.retry_after(*keys):
            access.lockout.refused(*keys)
            return False
        if access.is_quarantined is not None and access.is_quarantined(str(username)):
            return False  # not a failed sign-in: the credential may be right, the device is cut off
        if username == access.hub_username:
            accepted = hmac.compare_digest(password.encode(), access.hub_password.encode())
        else:
            # argon2id takes tens of milliseconds: keep it off the broker's event loop.
            loop = asyncio.get_running_loop()
            try:
                accepted = bool(
                    await loop.run_in_executor(None, access.check_device, username, password)
                )
            except Busy:
                return False  # not a failed sign-in: the device reconnects and tries again
        if access.lockout is not None:
            if accepted:
                access.lockout.succeeded(keys[1])  # the device's count; its address's stays
            else:
                events = access.lockout.failed(*keys)
                if events and access.on_lockout is not None:
                    await asyncio.get_running_loop().run_in_executor(
                        None, access.on_lockout, events
                    )
        if accepted and username != access.hub_username and access.on_connect is not None:
            access.on_connect(str(username))
        return accepted


class DeviceTopicPlugin(BaseTopicPlugin):  # type: ignore[misc]
    """A device uses its own topics only; the hub reads `up` and writes policies and downlinks."""

    @dataclass
    class Config:
        access: Any = None

    async def topic_filtering(
        self, *, session: Any = None, topic: str | None = None, action: Any = None
    ) -> bool:
        access: BrokerAccess | None = self.config.access
        if access is None or session is None or topic is None:
            return False
        acls = acls_for(session.username, access.hub_username)
        if access.is_quarantined is not None and access.is_quarantined(str(session.username)):
            return False
        if action == Action.RECEIVE:
            # The broker asking whether to deliver to a subscriber: nothing the client did.
            return may_receive(acls, topic)
        if action == Action.PUBLISH:
            allowed, verb = may_publish(acls, topic), "publish"
        elif action == Action.SUBSCRIBE:
            allowed, verb = may_subscribe(acls, topic), "subscribe"
        else:
            return False
        if not allowed and access.on_denied is not None:
            await asyncio.get_running_loop().run_in_executor(
                None, access.on_denied, str(session.username), verb, topic
            )
        return allowed


def plugins_config(access: BrokerAccess) -> dict[str, object]:
    """The `plugins` section of amqtt's config that enforces `access`."""
    return {
        f"{__name__}.DeviceAuthPlugin": {"access": access},
        f"{__name__}.DeviceTopicPlugin": {"access": access},
    }
