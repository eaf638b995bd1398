"""Keys held by the person: the hub stores their readings as ciphertext it cannot read, and
the person opens their export with their own age identity."""

from __future__ import annotations

import io
import stat
import time
import zipfile
from pathlib import Path

import pyrage
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.keys.datakeys import Keyring
from goodthings.core.keys.files import load_master_key
from goodthings.core.keys.held import HeldKeyError, hold_own_key, open_export
from goodthings.core.keys.vault import KeyVault
from goodthings.core.store import tables_portal as tp
from goodthings.ingest.batch import Incoming
from goodthings.ingest.pipeline import Pipeline
from goodthings.portal.view import streams_about
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.rights.export import export_subject
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import BASE, send, sign_in
from templates import init_from_template

BEFORE = [61.5, 62.25]
AFTER = [70.125, 71.875, 73.5]


def _held_alex(hub: Hub) -> pyrage.x25519.Identity:
    consent.give(
        hub.engine,
        hub.signer,
        consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation"),
    )
    hub.pipeline.refresh()
    assert send(hub, "band-alex", "heart_rate", BEFORE, start=time.time() - 100) == 2
    identity = pyrage.x25519.Identity.generate()
    hold_own_key(hub.engine, hub.keyring, hub.signer, "alex", str(identity.to_public()))
    hub.pipeline.refresh()
    assert send(hub, "band-alex", "heart_rate", AFTER) == 3
    return identity


def _archive(hub: Hub) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    export_subject(hub.engine, hub.keyring, hub.signer, "alex", buffer)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_the_hub_keeps_no_key_that_opens_the_persons_readings(smart_home: Hub) -> None:
    _held_alex(smart_home)
    with smart_home.engine.connect() as connection:
        assert smart_home.keyring.vault.read("alex") is None
        fresh = Keyring(load_master_key(smart_home.home.keys_dir), KeyVault.of(smart_home.home))
        fresh.load_held(connection)
        assert fresh.cipher(connection, "alex") is None
        prefixes = set(
            connection.execute(
                select(tp.held_batch_keys.c.prefix).where(tp.held_batch_keys.c.holder == "alex")
            ).scalars()
        )
        shown = streams_about(connection, smart_home.keyring, "alex")
    assert "*" in prefixes and len(prefixes) == 2, "the old key and one key for the new batch"
    heart = next(s for s in shown if s.name == "heart_rate")
    assert heart.held and heart.latest == ()
    smart_home.pipeline.refresh(force=True)
    with smart_home.engine.connect() as connection:
        assert smart_home.keyring.vault.read("alex") is None, (
            "refreshing the gate does not make a new hub key"
        )


def test_the_person_opens_every_reading_of_their_export(smart_home: Hub) -> None:
    identity = _held_alex(smart_home)
    archive = _archive(smart_home)
    assert "heart_rate" not in archive.read("readings.csv").decode()
    assert "held-readings.csv" in archive.read("README.txt").decode()
    opened = sorted(o.value for o in open_export(archive, identity))  # type: ignore[type-var]
    assert opened == sorted(BEFORE + AFTER)
    with pytest.raises(HeldKeyError):
        list(open_export(archive, pyrage.x25519.Identity.generate()))


def test_another_worker_seals_to_the_person_once_it_notices(smart_home: Hub) -> None:
    worker = Pipeline(
        smart_home.engine,
        Keyring(load_master_key(smart_home.home.keys_dir), KeyVault.of(smart_home.home)),
        smart_home.signer,
    )
    identity = _held_alex(smart_home)
    time.sleep(0.1)  # past the other worker's refresh interval
    pack = f'[{{"bt": {time.time()}, "n": "heart_rate", "v": 88.5}}]'.encode()
    assert worker.ingest([Incoming("band-alex", pack, time.time())]).results[0].stored == 1
    values = [o.value for o in open_export(_archive(smart_home), identity)]
    assert 88.5 in values


def test_erasing_a_person_who_holds_their_key_destroys_the_sealed_keys(smart_home: Hub) -> None:
    _held_alex(smart_home)
    outcome = erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    assert outcome.readings_purged == 5
    with smart_home.engine.connect() as connection:
        for table in (tp.held_batch_keys, tp.held_keys):
            assert connection.execute(select(table)).first() is None


def test_open_export_command(
    smart_home: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    identity = _held_alex(smart_home)
    archive = tmp_path / "alex.zip"
    with archive.open("wb") as handle:
        export_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex", handle)
    key = tmp_path / "key.txt"
    key.write_text(f"# created: now\n{identity}\n")
    out = tmp_path / "readings.csv"
    ran = run(capsys, "open-export", str(archive), "--identity", str(key), "--out", str(out))
    assert ran.code == 0, ran.err
    assert "Decrypted 5 readings" in ran.out
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "73.5" in out.read_text()
    other = tmp_path / "other.txt"
    other.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    ran = run(capsys, "open-export", str(archive), "--identity", str(other), "--out", str(out))
    assert ran.code == 1 and "does not open" in ran.err


def test_a_person_takes_their_key_in_the_portal(home: Home) -> None:
    init_from_template(home, "smart-home")
    app = create_app(home)
    with TestClient(app, base_url=BASE) as client:
        hub: Hub = app.state.hub
        csrf = sign_in(client, hub, "alex")
        refused = client.post("/portal/hold-key", data={"csrf": csrf, "confirm": "yes"})
        assert refused.status_code == 422, "no age key registered yet"
        identity = pyrage.x25519.Identity.generate()
        client.post("/portal/recipient", data={"csrf": csrf, "age_key": str(identity.to_public())})
        assert "Take my key" in client.get("/portal/export").text
        taken = client.post("/portal/hold-key", data={"csrf": csrf, "confirm": "yes"})
        assert taken.status_code == 200 and "You hold the key to your readings" in taken.text
        assert hub.keyring.holds_own_key("alex")
        client.post(
            "/portal/choices",
            data={
                "csrf": csrf,
                "stream": "pulse-band-2/heart_rate",
                "purpose": "ServicePersonalisation",
                "level": "exact",
            },
        )
        assert send(hub, "band-alex", "heart_rate", [90.25]) == 1
        page = client.get("/portal").text
        assert "hub cannot show them" in page and "90.25" not in page
        assert "You took the key to your readings" in client.get("/portal/activity").text
