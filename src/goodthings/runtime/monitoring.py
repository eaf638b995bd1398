"""Wiring the abuse monitor into a hub: the pipeline's batches, failed sign-ins, quarantines.

The monitor lives in `security` and may not know the ingest pipeline; this is where the two
meet. A quarantine is announced as a policy change, so this hub's pipeline reloads at once and
refuses the device's next pack; other workers see it within their gate's poll interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from goodthings.core.config import Home, Settings
from goodthings.core.errors import DeploymentError
from goodthings.core.keys import load_secret_root
from goodthings.core.lifecycle import Lifecycle
from goodthings.rights.sharing import WebhookSecrets
from goodthings.runtime.alert_webhook import AlertWebhook
from goodthings.security.lockout import Key, Scope
from goodthings.security.monitoring import Acted, AlertMailer, Monitor

if TYPE_CHECKING:
    from goodthings.runtime.hub import Hub


def attach_monitor(hub: Hub) -> Monitor:
    """A monitor for `hub`, fed by its pipeline and its lockout; kept as `hub.monitor`."""
    pipeline = hub.pipeline
    alerts = Alerts(sinks(hub.home))
    alerts.start()
    monitor = Monitor(hub.engine, hub.signer, notify=alerts)
    pipeline.observer = monitor.observe

    def failed(keys: tuple[Key, ...]) -> None:
        source = next((name for scope, name in keys if scope is Scope.address), None)
        device = next((name for scope, name in keys if scope is Scope.device), None)
        if source is not None:
            monitor.sign_in_failed(source, device)

    hub.lockout.on_failure = failed
    hub.monitor = monitor
    return monitor


class Alerts(Lifecycle):
    """Every alert to every sink the settings ask for; started with the hub, drained on close."""

    def __init__(self, sinks: Sequence[Callable[[Acted], None]]) -> None:
        self._sinks = list(sinks)

    def __call__(self, acted: Acted) -> None:
        for sink in self._sinks:
            sink(acted)

    def start(self) -> None:
        for sink in self._sinks:
            if isinstance(sink, Lifecycle):
                sink.start()

    def stop(self) -> None:
        for sink in self._sinks:
            if isinstance(sink, Lifecycle):
                sink.stop()


def sinks(home: Home) -> list[Callable[[Acted], None]]:
    """The alert mailer and the alert webhook, as far as the settings ask for them."""
    found: list[Callable[[Acted], None]] = []
    sender = mailer(home.settings)
    if sender is not None:
        found.append(sender)
    if home.settings.alert_webhook_url:
        secrets = WebhookSecrets(load_secret_root(home.keys_dir))
        found.append(AlertWebhook(home.settings.alert_webhook_url, secrets))
    return found


def mail_settings(settings: Settings) -> tuple[str, int, list[str]] | None:
    """(host, port, recipients) of the alert mail the settings ask for, refused before the hub
    opens anything when they are incomplete; None when no SMTP server is set."""
    if not settings.alert_smtp:
        return None
    host, _, port = settings.alert_smtp.rpartition(":")
    recipients = [a.strip() for a in (settings.alert_mail_to or "").split(",") if a.strip()]
    if not host or not port.isdigit() or not recipients:
        raise DeploymentError(
            "GOODTHINGS_ALERT_SMTP is host:port (for example 127.0.0.1:25) and "
            "GOODTHINGS_ALERT_MAIL_TO names at least one address; they are "
            f"{settings.alert_smtp!r} and {settings.alert_mail_to!r}"
        )
    return host, int(port), recipients


def mailer(settings: Settings) -> AlertMailer | None:
    """The alert mailer the settings ask for."""
    found = mail_settings(settings)
    if found is None:
        return None
    host, port, recipients = found
    return AlertMailer(host, port, settings.alert_mail_from, recipients)
