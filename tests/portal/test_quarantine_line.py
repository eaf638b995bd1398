"""The people a quarantined device is about read, in plain words, that it was cut off and why."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from goodthings.core.manifest.schema import Detection
from goodthings.core.store import tables_monitoring as tm
from goodthings.runtime.hub import Hub
from goodthings.security.monitoring import PLAIN_REASONS, quarantine, release
from portal_helpers import sign_in


def test_a_quarantined_device_is_explained_in_the_portal_until_released(
    client: TestClient, hub: Hub
) -> None:
    sign_in(client, hub, "alex")
    assert "was cut off" not in client.get("/portal").text
    reason = PLAIN_REASONS[Detection.flood]
    quarantine(hub.engine, hub.signer, "thermostat-1", reason=reason, actor="hub:monitor:flood")
    with hub.engine.begin() as connection:
        connection.execute(
            update(tm.quarantine_events).values(at=datetime(2026, 5, 3, 14, 2, tzinfo=UTC))
        )
    page = client.get("/portal").text
    assert (
        "The Living-room thermostat was cut off on 3 May 2026 at 14:02 UTC because it sent far "
        "more than usual; nothing it sent after that was kept."
    ) in page
    release(hub.engine, hub.signer, "thermostat-1", reason="checked", actor="operator")
    assert "was cut off" not in client.get("/portal").text
