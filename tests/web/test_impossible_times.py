"""Every reader survives any time already in the database.

Rows stored before the hub checked times, or written by hand, can hold a time of 1e300, -1e300,
2**64 or infinity. The home page, the person's portal, the application API, the person's
export and erasure must still answer, showing such a time as not a valid date.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from goodthings.core.config import Home
from goodthings.core.keys import context_at, row_prefix, store_sealed_batch_keys
from goodthings.core.store import insert_readings
from goodthings.core.store import tables as t
from goodthings.rights.access import issue_secret
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.rights.export import export_subject
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import BASE, sign_in
from templates import init_from_template

IMPOSSIBLE = (1e300, -1e300, float(2**64), float("inf"))
INVALID = "not a valid date"


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    override = None if database_url.startswith("sqlite") else database_url
    home = Home(tmp_path / "smart-home", override)
    init_from_template(home, "smart-home")
    with TestClient(create_app(home), base_url=BASE) as client:
        hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
        for subject in ("alex", "sam"):
            change = consent.ConsentChange(subject, "power", "OptimisationForConsumer")
            consent.give(hub.engine, hub.signer, change)
        hub.pipeline.refresh()
        _store_as_before_the_fix(
            hub, "meter-1", "power", "place:flat-4", (time.time(), *IMPOSSIBLE)
        )
        _store_as_before_the_fix(hub, "thermostat-1", "temperature", None, IMPOSSIBLE)
        _store_as_before_the_fix(hub, "band-alex", "heart_rate", "alex", IMPOSSIBLE)
        yield client


def _hub(client: TestClient) -> Hub:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    return hub


def _store_as_before_the_fix(
    hub: Hub, device: str, stream: str, holder: str | None, moments: tuple[float, ...]
) -> None:
    """Rows as the pipeline wrote them before it checked times: sealed the same way."""
    with hub.engine.begin() as connection:
        stream_id = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == stream)
        ).scalar_one()
        if holder is None:
            rows = [(device, stream_id, None, moment, 0, 20.0, None, None) for moment in moments]
        else:
            hub.keyring.load(connection, [holder], create=True)
            sealer = hub.keyring.sealer(holder)
            prefix = row_prefix(device, stream_id)
            rows = [
                (
                    device,
                    stream_id,
                    holder,
                    m,
                    0,
                    None,
                    None,
                    sealer.seal(432.0, context_at(prefix, m)),
                )
                for m in moments
            ]
            store_sealed_batch_keys(connection, {holder: sealer})
        assert insert_readings(connection, rows) == len(moments)


def test_the_home_page_shows_an_impossible_latest_time_as_no_date(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert f"latest {INVALID}" in page.text


def test_the_portal_shows_an_impossible_time_as_no_date(client: TestClient) -> None:
    sign_in(client, _hub(client), "alex")
    page = client.get("/portal")
    assert page.status_code == 200
    assert INVALID in page.text and "432 beats a minute" in page.text


def test_the_application_api_answers_null_for_an_impossible_time(client: TestClient) -> None:
    hub = _hub(client)
    with hub.engine.begin() as connection:
        secret = issue_secret(connection, "energy-dashboard")
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "energy-dashboard",
            "client_secret": secret,
        },
    ).json()["access_token"]
    answer = client.get(
        "/api/v1/readings",
        params={"stream": "power", "purpose": "OptimisationForConsumer"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    times = [reading["time"] for reading in answer.json()["readings"]]
    assert len(times) == 5
    assert times.count(None) == len(IMPOSSIBLE)


def test_the_export_leaves_the_date_of_an_impossible_time_empty(client: TestClient) -> None:
    hub = _hub(client)
    buffer = io.BytesIO()
    export_subject(hub.engine, hub.keyring, hub.signer, "alex", buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        name = next(n for n in archive.namelist() if n.endswith("readings.csv"))
        rows = list(csv.DictReader(io.StringIO(archive.read(name).decode())))
    power = [row for row in rows if row["stream"] == "power"]
    assert len(power) == 5
    assert sorted(row["time_unix"] for row in power if not row["time_utc"]) == sorted(
        repr(moment) for moment in IMPOSSIBLE
    )


def test_erasure_keeping_aggregates_counts_impossible_times_apart(client: TestClient) -> None:
    hub = _hub(client)
    outcome = erase_subject(hub.engine, hub.keyring, hub.signer, "alex", keep_aggregates=True)
    assert (outcome.readings_purged, outcome.aggregates_kept) == (len(IMPOSSIBLE), 1)
