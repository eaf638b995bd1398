"""A small synchronous MQTT client for tests: connect, subscribe, publish, and see what came back."""

from __future__ import annotations

import queue
import secrets
import threading
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

TIMEOUT = 5.0


class Peer:
    def __init__(
        self,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        *,
        mqtt5: bool = True,
        client_id: str | None = None,
        tls: Any = None,
    ) -> None:
        self.host, self.port = host, port
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            # A fresh client id each time: no broker session take-over between tests' peers.
            client_id=client_id or f"peer-{username or 'anonymous'}-{secrets.token_hex(3)}",
            protocol=paho.MQTTv5 if mqtt5 else paho.MQTTv311,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls is not None:
            self.client.tls_set_context(tls)
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.connected: bool | None = None
        self._connack = threading.Event()
        self._gone = threading.Event()
        self._acks: dict[int, Any] = {}
        self._acked = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = lambda _c, _u, m: self.messages.put((m.topic, m.payload))

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connected = not reason.is_failure
        self._connack.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        if self.connected is None:
            self.connected = False
        self._connack.set()
        self._gone.set()

    def _ack(self, mid: int, value: Any) -> None:
        with self._acked:
            self._acks[mid] = value
            self._acked.notify_all()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        self._ack(mid, all(not reason.is_failure for reason in reasons))

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self._ack(mid, not reason.is_failure)

    def _wait(self, mid: int) -> Any:
        with self._acked:
            if not self._acked.wait_for(lambda: mid in self._acks, TIMEOUT):
                raise TimeoutError(f"no acknowledgement for message {mid}")
            return self._acks.pop(mid)

    def connect(self) -> bool:
        """Whether the broker let this client in."""
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError:
            return False
        self.client.loop_start()
        self._connack.wait(TIMEOUT)
        return bool(self.connected)

    def subscribe(self, topic_filter: str) -> bool:
        """Whether the broker granted the subscription."""
        _result, mid = self.client.subscribe(topic_filter, qos=1)
        return bool(self._wait(mid))

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> bool:
        """Whether the broker acknowledged the publish without an error reason (QoS 1)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        return bool(self._wait(info.mid))

    def next_message(self, timeout: float = TIMEOUT) -> tuple[str, bytes]:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        if self.connected is not None:
            self._gone.wait(TIMEOUT)  # the connection is really closed, on both sides
        self.client.loop_stop()
        # A refused client may still hold its socket when the loop stops: close it here.
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
