"""Alerts leave the hub by e-mail, rate-limited, on a thread of their own.

Detections are already deduplicated by the monitor (one per kind and device per window); the
throttle caps what a storm of different detections can send, and says in the next message how
many were held back, so an attacker cannot bury the operator's inbox. Sending happens on the
mailer's own thread: a slow or unreachable mail server never holds up ingest.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from goodthings.core.lifecycle import Lifecycle
from goodthings.security.monitoring.detectors import Severity
from goodthings.security.monitoring.monitor import Acted

logger = logging.getLogger(__name__)

_RANK = {Severity.info: 0, Severity.warning: 1, Severity.critical: 2}


class Throttle:
    """At most `limit` alerts per `per` seconds; the rest are counted as held back."""

    def __init__(
        self, limit: int = 20, per: float = 3600.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or per <= 0:
            raise ValueError("limit must be at least 1 and per above 0")
        self.limit, self.per, self._clock = limit, per, clock
        self._sent: list[float] = []
        self.held_back = 0

    def allow(self) -> bool:
        now = self._clock()
        self._sent = [moment for moment in self._sent if moment > now - self.per]
        if len(self._sent) >= self.limit:
            self.held_back += 1
            return False
        self._sent.append(now)
        return True


class AlertMailer(Lifecycle):
    """Mails each alert at or above `min_severity` to the operator's addresses over SMTP."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        deployment: str = "goodthings",
        min_severity: Severity = Severity.warning,
        throttle: Throttle | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._sender, self._recipients = sender, list(recipients)
        self._deployment = deployment
        self._min = _RANK[min_severity]
        self._throttle = throttle or Throttle()
        self._queue: queue.Queue[EmailMessage | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, acted: Acted) -> None:
        if _RANK[acted.finding.severity] < self._min or not self._throttle.allow():
            return
        self._queue.put(self._message(acted))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-mailer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Send what is queued, then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _message(self, acted: Acted) -> EmailMessage:
        finding = acted.finding
        about = finding.device_id or finding.source or "the hub"
        held = self._throttle.held_back
        self._throttle.held_back = 0
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        message["Subject"] = (
            f"[{self._deployment}] {finding.severity.value}: {finding.kind.value} ({about})"
        )
        lines = [
            finding.explanation,
            "",
            f"What the hub did: {'quarantined the device' if acted.response == 'quarantine' else 'raised this alert'}.",
            f"When: {acted.at:%Y-%m-%d %H:%M:%S} UTC. Detection {acted.detection_id}: "
            "`goodthings monitor alerts` shows its evidence.",
        ]
        if held:
            lines += ["", f"{held} earlier alert(s) were not mailed (rate limit); see the console."]
        message.set_content("\n".join(lines) + "\n")
        return message

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                    smtp.send_message(message)
            except (OSError, smtplib.SMTPException) as error:
                logger.error("could not mail an alert (%s)", type(error).__name__)
