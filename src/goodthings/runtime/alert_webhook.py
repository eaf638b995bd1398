"""Alerts to the operator's webhook, signed as deliveries to recipients are (`rights.sharing`).

The signing secret is derived from the deployment's secret root under the name `monitor-alerts`
(`goodthings monitor webhook-secret` prints it), and each POST carries the same
`X-Goodthings-Signature: t=…,v1=…` header, so one receiver's check serves both. Posting happens
on the sink's own thread, rate-limited like the mail; a receiver that is down loses the alert
from the webhook only: it is kept in the store and on the operator's pages.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

import httpx2

from goodthings.core.lifecycle import Lifecycle
from goodthings.rights.sharing import HEADER, WebhookSecrets
from goodthings.security.monitoring import Acted, Throttle

logger = logging.getLogger(__name__)

ALERTS = "monitor-alerts"
"""The name the alert webhook's secret is derived under."""


class AlertWebhook(Lifecycle):
    def __init__(
        self,
        url: str,
        secrets: WebhookSecrets,
        *,
        throttle: Throttle | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._url, self._secrets, self._timeout = url, secrets, timeout
        self._throttle = throttle or Throttle(limit=60)
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def __call__(self, acted: Acted) -> None:
        if not self._throttle.allow():
            return
        finding = acted.finding
        body = {
            "detection": acted.detection_id,
            "at": acted.at.isoformat(),
            "kind": finding.kind.value,
            "severity": finding.severity.value,
            "action": acted.response.value,
            "device": finding.device_id,
            "source": finding.source,
            "explanation": finding.explanation,
            "evidence": dict(finding.evidence),
        }
        self._queue.put(json.dumps(body, sort_keys=True).encode())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        with httpx2.Client(timeout=self._timeout) as client:
            while (body := self._queue.get()) is not None:
                signed = self._secrets.sign(ALERTS, body, int(time.time()))
                headers = {"Content-Type": "application/json", HEADER: signed}
                try:
                    client.post(self._url, content=body, headers=headers).raise_for_status()
                except httpx2.HTTPError as error:
                    logger.error(
                        "could not post an alert to the webhook (%s)", type(error).__name__
                    )
