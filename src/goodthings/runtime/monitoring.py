"""Wiring the abuse monitor into a hub: the pipeline's batches, failed sign-ins, quarantines.

The monitor lives in `security` and may not know the ingest pipeline; this is where the two
meet. A quarantine is announced as a policy change, so this hub's pipeline reloads at once and
refuses the device's next pack; other workers see it within their gate's poll interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goodthings.core.config import Settings
from goodthings.core.errors import DeploymentError
from goodthings.security.lockout import Key, Scope
from goodthings.security.monitoring import AlertMailer, Monitor

if TYPE_CHECKING:
    from goodthings.runtime.hub import Hub


def attach_monitor(hub: Hub) -> Monitor:
    """A monitor for `hub`, fed by its pipeline and its lockout; kept as `hub.monitor`."""
    pipeline = hub.pipeline
    monitor = Monitor(hub.engine, hub.signer, notify=mailer(hub.home.settings))
    pipeline.observer = monitor.observe

    def failed(keys: tuple[Key, ...]) -> None:
        source = next((name for scope, name in keys if scope is Scope.address), None)
        device = next((name for scope, name in keys if scope is Scope.device), None)
        if source is not None:
            monitor.sign_in_failed(source, device)

    hub.lockout.on_failure = failed
    hub.monitor = monitor
    return monitor


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
    """The alert mailer the settings ask for, started."""
    found = mail_settings(settings)
    if found is None:
        return None
    host, port, recipients = found
    sender = AlertMailer(host, port, settings.alert_mail_from, recipients)
    sender.start()
    return sender
