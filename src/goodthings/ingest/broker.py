"""An in-process MQTT broker (amqtt) so `goodthings demo` and `serve` need nothing installed.

It is a convenience, not a production broker: amqtt speaks MQTT 3.1.1 only (no shared
subscriptions, so one hub worker), and it forgets a QoS 1 message that was sent but not yet
acknowledged when the subscriber disconnects, so a hub crash between commit and ack can lose
readings. Messages published while the hub is away are queued only for a session that gave a
username, which is why `allow_anonymous` is off by default (any username is accepted).
Run Mosquitto for anything that matters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

from amqtt.adapters import StreamReaderAdapter, StreamWriterAdapter
from amqtt.broker import Broker

from goodthings.core.lifecycle import Lifecycle
from goodthings.security import BrokerAccess, plugins_config

_LISTENER = "default"


class _Broker(Broker):  # type: ignore[misc]
    """amqtt with a leak closed: when a client connects, amqtt 0.12 sends it the retained
    messages of every filter that *any* session subscribed to (broker.py, `client_connected`),
    so one device could receive another's retained policy. Only the session's own filters count.
    """

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Any
    ) -> None:
        subscribers = self._subscriptions.get(subscription[0], [])
        if any(subscriber.client_id == session.client_id for subscriber, _qos in subscribers):
            await super()._publish_retained_messages_for_subscription(subscription, session)


class _Writer(StreamWriterAdapter):  # type: ignore[misc]
    """amqtt's writer leaves the socket open when flushing fails because the client has already
    gone (as a refused client does at once); close the transport whatever happens."""

    async def close(self) -> None:
        try:
            await super().close()
        except OSError:
            pass
        finally:
            self._writer.close()


class EmbeddedBrokerError(RuntimeError):
    """The embedded broker could not start or stop."""


class EmbeddedBroker(Lifecycle):
    """amqtt on its own thread and asyncio loop, listening on loopback only by default."""

    mqtt5 = False
    """amqtt refuses MQTT 5 connections: connect to it with `BrokerSession(mqtt5=False)`."""
    shared_subscriptions = False
    """`$share/...` filters match nothing on amqtt: use `BrokerSession(shared=False)`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        allow_anonymous: bool = False,
        session_expiry: int = 3600,
        access: BrokerAccess | None = None,
    ) -> None:
        """With `access`, only the hub and devices with a live credential may connect, each to
        its own topics (`goodthings.security.broker_acl`); without, any username is accepted."""
        self.host = host
        self._requested_port = port
        self._allow_anonymous = allow_anonymous
        self._session_expiry = session_expiry
        self._access = access
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._broker: _Broker | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        """The bound port, known once started (a port of 0 asks for a free one)."""
        if self._port is None:
            raise EmbeddedBrokerError("the embedded broker has not been started")
        return self._port

    def start(self, timeout: float = 10.0) -> None:
        """Return once the broker accepts connections, or raise why it could not."""
        if self._thread is not None:
            raise EmbeddedBrokerError("the embedded broker is already running")
        # amqtt logs whole packets, payloads included, at DEBUG: readings are personal data.
        amqtt_logger = logging.getLogger("amqtt")
        if amqtt_logger.getEffectiveLevel() < logging.INFO:
            amqtt_logger.setLevel(logging.INFO)
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="goodthings-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise EmbeddedBrokerError(f"the embedded broker did not start within {timeout} s")
        if self._error is not None:
            error = self._error
            self._thread.join(timeout)
            self._thread = None
            raise EmbeddedBrokerError(f"the embedded broker could not start: {error}") from error

    def stop(self, timeout: float = 10.0) -> None:
        """Disconnect every client, close the listener and end the broker's thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        if thread.is_alive():
            raise EmbeddedBrokerError(f"the embedded broker did not stop within {timeout} s")
        self._thread = None
        self._port = None
        if self._error is not None:
            raise EmbeddedBrokerError(f"the embedded broker failed: {self._error}") from self._error

    def disconnect(self, usernames: set[str]) -> None:
        """Close the connections of the clients signed in as any of `usernames` (a quarantine:
        the access checks refuse them from then on). Returns at once; the broker's loop does it."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(lambda: loop.create_task(self._disconnect(usernames)))

    async def _disconnect(self, usernames: set[str]) -> None:
        broker = self._broker
        if broker is None:
            return
        for session, handler in list(broker.sessions.values()):
            if session.username in usernames and handler.writer is not None:
                # As if the network dropped: amqtt's own path then ends the session (and sends
                # its will, which the hub does not subscribe to).
                await handler.writer.close()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to the thread that called start() or stop()
            self._error = error
        finally:
            self._ready.set()
            loop.close()
            self._loop = None

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        broker = self._broker = _Broker(self._config())
        await broker.start()
        try:
            # The listener is ours ("external" to amqtt) so that port 0 works and the bound
            # port is known without reaching into amqtt's private state.
            server = await asyncio.start_server(
                lambda reader, writer: broker.external_connected(
                    StreamReaderAdapter(reader), _Writer(writer), _LISTENER
                ),
                self.host,
                self._requested_port,
            )
        except BaseException:
            await broker.shutdown()
            raise
        try:
            self._port = int(server.sockets[0].getsockname()[1])
            self._ready.set()
            await self._stopping.wait()
        finally:
            server.close()
            await broker.shutdown()
            await server.wait_closed()
            self._broker = None

    def _config(self) -> dict[str, object]:
        return {
            "listeners": {_LISTENER: {"type": "external"}},
            "session_expiry_interval": self._session_expiry,
            # Only authentication: amqtt's default packet and event loggers would log payloads.
            "plugins": plugins_config(self._access)
            if self._access is not None
            else {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {
                    "allow_anonymous": self._allow_anonymous
                },
            },
        }
