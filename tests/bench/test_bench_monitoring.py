"""The bench's monitoring phase, in-process and small: figures of the right shape, and a normal
fleet left alone (the worker-backed figure is covered by test_bench's full run)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from goodthings.bench import scenario
from goodthings.bench.monitoring import _effective, _false_quarantines, _flood, _overhead
from goodthings.core.keys import load_signing_key
from goodthings.core.store import monitoring, open_engine
from goodthings.core.store import tables as t
from goodthings.core.store import tables_monitoring as tm
from goodthings.runtime.hub import Hub
from hubs import ServeProcess


def test_the_monitoring_phase_measures_and_leaves_a_normal_fleet_alone(tmp_path: Path) -> None:
    setting = scenario.prepare(tmp_path / "deployment")
    hub = Hub.open(setting.home)
    try:
        ratio = _overhead(hub, setting.devices, 1200, 20)
        assert 0 < ratio < 10
        flood_ms = _flood(hub)
        assert flood_ms > 0
        assert not hub.pipeline.quarantined("thermostat-1")  # released after the measurement
        assert _false_quarantines(hub) == 0
        with hub.engine.connect() as connection:
            profiles = connection.execute(select(t.device_models.c.monitoring)).scalars().all()
            kinds = set(connection.execute(select(tm.detections.c.kind)).scalars())
        assert "silent" in kinds  # the fleet's outages were noticed, and only alerted on
        assert all(not profile for profile in profiles)  # the bench's profiles are taken back
    finally:
        hub.close()


def test_a_quarantine_holds_in_a_serve_worker_and_is_measured(tmp_path: Path) -> None:
    setting = scenario.prepare(tmp_path / "deployment")
    worker = ServeProcess(setting.home.root, ["--mqtt-port", "0"], tmp_path / "serve.log")
    engine = open_engine(setting.home.database_url)
    try:
        device = scenario.QUARANTINE_DEVICE
        signer = load_signing_key(setting.home.keys_dir)
        token = setting.device_tokens[device]
        delay = _effective(engine, signer, worker.port, token, device, rounds=2)
        assert delay >= 0
        with engine.connect() as connection:
            held = monitoring.current_quarantines(connection)
            events = connection.execute(select(tm.quarantine_events.c.action)).scalars().all()
        assert device not in held  # released after each round
        assert events == ["quarantine", "release"] * 2
    finally:
        engine.dispose()
        worker.kill()
