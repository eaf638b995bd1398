"""Declaring a monitoring profile through the real manifest path, and sending packs."""

from __future__ import annotations

import json
import time

from goodthings.core.manifest import load_manifest_text
from goodthings.deployment.apply import apply_manifest
from goodthings.deployment.directory import example_text
from goodthings.ingest.batch import BatchOutcome, Incoming
from goodthings.runtime.hub import Hub

THERMOSTAT_MODEL = "  - id: thermia-t5\n"


def declare(hub: Hub, profile: str, *, support_until: str | None = None) -> None:
    """Apply the smart-home example with `profile` (YAML lines) as the thermostat's
    `monitoring:` block, then let the monitor and the gate see it."""
    text = example_text("smart-home")
    head, tail = text.split(THERMOSTAT_MODEL, 1)
    marker = "    update_mechanism: operator-initiated\n"
    block = "    monitoring:\n" + "".join(f"      {line}\n" for line in profile.splitlines())
    tail = tail.replace(marker, marker + block, 1)
    if support_until is not None:
        tail = tail.replace(
            "    support_until: 2030-12-31\n", f"    support_until: {support_until}\n", 1
        )
    apply_manifest(hub.engine, load_manifest_text(head + THERMOSTAT_MODEL + tail), confirmed=True)
    assert hub.monitor is not None
    hub.monitor.reload()
    hub.pipeline.refresh()


def pack(
    device: str, stream: str = "temperature", *, at: float | None = None, value: float = 21.0
) -> Incoming:
    """One reading, dated now (or `at`), without a unit (the stream's own is assumed)."""
    moment = time.time() if at is None else at
    body = json.dumps([{"bt": moment, "n": stream, "v": value}]).encode()
    return Incoming(device, body, time.time())


def send(hub: Hub, *packs: Incoming) -> BatchOutcome:
    return hub.pipeline.ingest(list(packs))
