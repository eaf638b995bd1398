"""The console's read models on a live smart home, on SQLite and on PostgreSQL: the overview,
devices, streams with consent counts, applications, requests and the ledger browser agree with
what happened."""

from __future__ import annotations

from datetime import UTC, datetime

from goodthings.console import applications, dashboard, devices, ledger_browser, streams
from goodthings.console import requests as register
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import request_erasure
from goodthings.runtime.hub import Hub
from portal_helpers import give, send


def test_the_read_models_tell_what_happened(smart_home: Hub) -> None:
    hub = smart_home
    give(
        hub,
        ("alex", "power", "OptimisationForConsumer"),
        ("sam", "power", "OptimisationForConsumer"),
    )
    consent.withdraw(
        hub.engine, hub.signer, consent.ConsentChange("sam", "power", "OptimisationForConsumer")
    )
    hub.pipeline.refresh()
    assert send(hub, "meter-1", "power", [500.0, 510.0]) == 2
    request_erasure(hub.engine, hub.signer, "sam", method="letter")
    with hub.engine.begin() as connection:
        register.record(
            connection, register.Kind.access, "alex", datetime.now(UTC), "email", "", "dana"
        )
    with hub.engine.connect() as connection:
        glance = dashboard.dashboard(connection)
        listed = devices.devices(connection)
        meter = devices.device(connection, "meter-1")
        power = next(s for s in streams.streams(connection) if s.name == "power")
        shared = applications.sharing(connection)
        found = ledger_browser.browse(
            connection, ledger_browser.Filters(subject="sam", action="consent.withdraw")
        )
    assert sum(bar.value for bar in glance.per_minute) == 2
    assert glance.reporting == ("meter-1",) and "thermostat-1" in glance.silent
    assert {r.kind for r in glance.open_requests} == {register.Kind.erasure, register.Kind.access}
    assert glance.overdue == 0
    assert [d.id for d in listed if d.last_reading is not None] == ["meter-1"]
    assert meter is not None and meter.summary.place == "flat-4"
    optimisation = next(p for p in power.purposes if p.purpose == "OptimisationForConsumer")
    assert (optimisation.yes, optimisation.no, power.readings) == (1, 1, 2)
    assert "energy-dashboard" in {a.id for a in shared.applications}
    assert [e.action for e in found.entries] == ["consent.withdraw"]
