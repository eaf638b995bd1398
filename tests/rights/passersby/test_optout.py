"""Passers-by opt out of the city street's footfall counters: keyed hash only, readings dropped."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from goodthings.core.config import Home
from goodthings.core.keys import load_secret_root
from goodthings.core.ledger import journal as ledger_store
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.ingest.batch import Incoming
from goodthings.rights.passersby import IdentifierKey, held, normalise, opt_out
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from templates import init_from_template

MINE = "3C:22:FB:12:34:56"
OTHER = "a4:83:e7:00:11:22"


@pytest.fixture
def street(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    override = None if database_url.startswith("sqlite") else database_url
    home = Home(tmp_path / "street", override)
    init_from_template(home, "city-street")
    hub = Hub.open(home)
    yield hub
    hub.close()


def _key(hub: Hub) -> IdentifierKey:
    return IdentifierKey(load_secret_root(hub.home.keys_dir))


def _probe(hub: Hub, *addresses: str, at: float | None = None) -> dict[str, object]:
    start = at or time.time() - 60
    records = [{"n": "probe", "t": start + i, "vs": a} for i, a in enumerate(addresses)]
    outcome = hub.pipeline.ingest(
        [Incoming("footfall-north", json.dumps(records).encode(), time.time())]
    )
    result = outcome.results[0]
    return {"stored": result.stored, "dropped": dict(result.dropped)}


@pytest.mark.parametrize(
    "written", ["3C:22:FB:12:34:56", "3c-22-fb-12-34-56", "3c22.fb12.3456", " 3C22FB123456 "]
)
def test_addresses_are_normalised(written: str) -> None:
    assert normalise(written) == "3c:22:fb:12:34:56"


@pytest.mark.parametrize("written", ["", "3C:22:FB:12:34", "not an address", "3C:22:FB:12:34:5G"])
def test_what_is_not_an_address_is_refused(written: str) -> None:
    with pytest.raises(ValueError, match="not a Wi-Fi or Bluetooth address"):
        normalise(written)


def test_opt_out_erases_what_is_held_and_drops_what_comes(street: Hub) -> None:
    key = _key(street)
    assert _probe(street, MINE, OTHER, MINE)["stored"] == 3
    assert held(street.engine, street.keyring, key, street.signer, MINE.lower()).readings == 2
    erased = opt_out(street.engine, street.keyring, key, street.signer, MINE, "mill-street-north")
    assert erased == 2
    street.pipeline.refresh()
    after = _probe(street, MINE, OTHER, at=time.time() - 30)
    assert after == {"stored": 1, "dropped": {"opted_out": 1}}
    found = held(street.engine, street.keyring, key, street.signer, OTHER)
    assert (found.readings, found.places) == (2, ("mill-street-north",))
    assert held(street.engine, street.keyring, key, street.signer, MINE).readings == 0
    with street.engine.connect() as connection:
        actions = [(e.action, dict(e.counts)) for e in ledger_store.entries(connection)]
        digests = list(connection.execute(select(tt.passerby_optouts.c.digest)).scalars())
    assert ("passerby.opt-out", {"opted_out": 1, "erased": 2}) in actions
    assert ("passerby.access", {"held": 2}) in actions
    # Only a keyed hash is kept: not the address, not its plain hash.
    assert digests == [key.digest(normalise(MINE))]
    assert hashlib.sha256(normalise(MINE).encode()).hexdigest() not in digests


def test_opting_out_twice_keeps_one_record(street: Hub) -> None:
    key = _key(street)
    opt_out(street.engine, street.keyring, key, street.signer, MINE)
    opt_out(street.engine, street.keyring, key, street.signer, MINE.lower())
    with street.engine.connect() as connection:
        assert len(connection.execute(select(tt.passerby_optouts)).all()) == 1


def test_other_streams_are_not_touched(street: Hub) -> None:
    opt_out(street.engine, street.keyring, _key(street), street.signer, MINE)
    street.pipeline.refresh()
    records = [{"n": "footfall", "t": time.time() - 10, "v": 12.0}]
    outcome = street.pipeline.ingest(
        [Incoming("footfall-north", json.dumps(records).encode(), time.time())]
    )
    assert outcome.results[0].stored == 1
    with street.engine.connect() as connection:
        assert connection.execute(select(t.readings.c.value)).scalars().all() == [12.0]


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    init_from_template(home, "city-street")
    with TestClient(create_app(home)) as client:
        yield client


def test_the_notice_page_of_a_place_with_a_counter_has_the_form(client: TestClient) -> None:
    north = client.get("/notice/place/mill-street-north").text
    assert '<form method="post" action="/passers-by">' in north
    assert '<label for="address">Wi-Fi or Bluetooth address</label>' in north
    assert '<form method="post"' not in client.get("/notice/place/market-square").text
    assert '<form method="post"' in client.get("/notice/device/footfall-south").text


def test_opting_out_on_the_web(client: TestClient, home: Home) -> None:
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    _probe(hub, MINE)
    form = {"address": MINE, "place": "mill-street-north"}
    asked = client.post("/passers-by", data={**form, "action": "held"})
    assert asked.status_code == 200 and "We hold 1 reading of this address." in asked.text
    done = client.post("/passers-by", data={**form, "action": "opt-out", "lang": "fr"})
    assert done.status_code == 200
    assert "nous ne recueillons plus votre téléphone" in done.text
    assert 'href="/notice/place/mill-street-north?lang=fr"' in done.text
    assert _probe(hub, MINE, at=time.time() - 5)["dropped"] == {"opted_out": 1}
    wrong = client.post("/passers-by", data={"address": "12:34"})
    assert wrong.status_code == 400 and "not a Wi-Fi or Bluetooth address" in wrong.text
    stored = (home.root / "goodthings.db").read_bytes()
    assert MINE.encode() not in stored and normalise(MINE).encode() not in stored
