"""Import advisories into a hub and read back what they flag, as (advisory, device, what)."""

from __future__ import annotations

from pathlib import Path

from goodthings.runtime.hub import Hub
from goodthings.security.advisories import affected_devices, read_advisory, store_advisory
from goodthings.security.firmware import record_birth

DATA = Path(__file__).parent / "security" / "advisories" / "data"


def flagged(
    hub: Hub, *names: str, firmware: dict[str, str] | None = None
) -> set[tuple[str, str, str]]:
    """What the advisories in `names` flag once imported, with devices reporting `firmware`:
    (advisory id, device, "firmware 5.0.2" or "component openssl 1:1.1.1k-5.el8")."""
    with hub.engine.begin() as connection:
        for device, version in (firmware or {}).items():
            record_birth(connection, device, version)
        for name in names:
            store_advisory(connection, read_advisory(DATA / name))
    with hub.engine.connect() as connection:
        return {
            (
                hit.advisory,
                hit.device,
                f"component {hit.component} {hit.version}"
                if hit.component
                else f"firmware {hit.version}",
            )
            for hit in affected_devices(connection)
        }
