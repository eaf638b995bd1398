"""Wiring the abuse monitor into a hub: the pipeline's batches, failed sign-ins, quarantines.

The monitor lives in `security` and may not know the ingest pipeline; this is where the two
meet. A quarantine is announced as a policy change, so this hub's pipeline reloads at once and
refuses the device's next pack; other workers see it within their gate's poll interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from goodthings.security.lockout import Key, Scope
from goodthings.security.monitoring import Monitor

if TYPE_CHECKING:
    from goodthings.runtime.hub import Hub


def attach_monitor(hub: Hub) -> Monitor:
    """A monitor for `hub`, fed by its pipeline and its lockout; kept as `hub.monitor`."""
    pipeline = hub.pipeline
    monitor = Monitor(hub.engine, hub.signer)
    pipeline.observer = monitor.observe

    def failed(keys: tuple[Key, ...]) -> None:
        source = next((name for scope, name in keys if scope is Scope.address), None)
        device = next((name for scope, name in keys if scope is Scope.device), None)
        if source is not None:
            monitor.sign_in_failed(source, device)

    hub.lockout.on_failure = failed
    hub.monitor = monitor
    return monitor
