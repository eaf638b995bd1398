"""Erasure: unreadable at once (the key goes first), then purged, with a signed receipt; after
it no API returns or can decrypt the person's readings, and nothing of them is left on disk."""

from __future__ import annotations

import io
import json
import struct
import threading
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cli_helpers import run
from goodthings.core import ledger
from goodthings.core.config import Home, resolve_home
from goodthings.core.keys.datakeys import Keyring, UnreadableError, open_sealed, row_context
from goodthings.core.keys.files import load_master_key
from goodthings.core.keys.vault import KeyVault
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.ingest.batch import Incoming
from goodthings.portal.view import latest_readings
from goodthings.rights.erasure import erase_subject, shred
from goodthings.rights.export import export_subject
from goodthings.rights.receipts import verify
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import BASE, csrf_of, give, invite, send, sign_in
from templates import init_from_template

HEARTS = [171.4589, 183.2297, 166.7713, 159.3311]


def _prepare(hub: Hub) -> None:
    give(
        hub,
        ("alex", "heart_rate", "ServicePersonalisation"),
        ("alex", "steps", "ServicePersonalisation"),
        ("alex", "power", "OptimisationForConsumer"),
        ("sam", "power", "OptimisationForConsumer"),
    )
    assert send(hub, "band-alex", "heart_rate", HEARTS) == len(HEARTS)
    assert send(hub, "band-alex", "steps", [1200.0, 3400.0]) == 2
    assert send(hub, "meter-1", "power", [512.5, 498.25]) == 2


def _alexs_rows(hub: Hub) -> list[tuple[str, int, float, bytes]]:
    r = t.readings
    with hub.engine.connect() as connection:
        return [
            tuple(row)  # type: ignore[misc]
            for row in connection.execute(
                select(r.c.device_id, r.c.stream_id, r.c.time, r.c.sealed).where(
                    r.c.subject_id == "alex"
                )
            )
        ]


def test_after_erasure_nothing_returns_or_decrypts_the_persons_readings(smart_home: Hub) -> None:
    hub = smart_home
    _prepare(hub)
    before = _alexs_rows(hub)
    assert len(before) == 6
    outcome = erase_subject(hub.engine, hub.keyring, hub.signer, "alex")
    assert outcome.readings_purged == 6
    assert _alexs_rows(hub) == []
    with hub.engine.connect() as connection:
        assert hub.keyring.vault.read("alex") is None
        # A hub started afresh with the master key has no key for Alex any more…
        fresh = Keyring(load_master_key(hub.home.keys_dir), KeyVault.of(hub.home))
        assert fresh.cipher(connection, "alex") is None
        # …and no key it holds opens the sealed values that were stored.
        holders = [
            *connection.execute(select(t.subjects.c.id)).scalars(),
            *(f"place:{p}" for p in connection.execute(select(t.places.c.id)).scalars()),
        ]
        ciphers = [c for c in (fresh.cipher(connection, h) for h in holders) if c is not None]
        assert ciphers, "the others' keys are still there"
        for cipher in ciphers:
            for device, stream, moment, sealed in before:
                with pytest.raises(UnreadableError):
                    open_sealed(cipher, sealed, row_context(device, stream, moment))
        band = latest_readings(connection, hub.keyring, "band-alex", before[0][1])
    assert band == []
    exported = io.BytesIO()
    export_subject(hub.engine, hub.keyring, hub.signer, "alex", exported)
    rows = zipfile.ZipFile(exported).read("readings.csv").decode()
    assert "heart_rate" not in rows and "steps" not in rows
    # The household's meter is also about Sam: kept, under the place's key, and still readable.
    assert "power" in rows


def test_new_readings_from_the_persons_device_are_dropped_after_erasure(smart_home: Hub) -> None:
    _prepare(smart_home)
    erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    # No refresh by hand: the erasure announces itself and the hub's gate follows at once.
    assert send(smart_home, "band-alex", "heart_rate", [99.0]) == 0


def test_the_erasure_receipt_is_signed_and_says_what_was_kept(smart_home: Hub) -> None:
    _prepare(smart_home)
    outcome = erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    checked = verify(outcome.receipt, smart_home.signer.public_key())
    receipt = checked.receipt
    assert receipt["kind"] == "erasure" and receipt["mode"] == "deleted"
    assert receipt["outcome"]["data_key_destroyed"] is True
    assert receipt["outcome"]["readings_deleted"] == 6
    assert any("flat-4" in kept for kept in receipt["outcome"]["kept"])
    with smart_home.engine.connect() as connection:
        request = connection.execute(select(tp.erasure_requests)).mappings().one()
        person = (
            connection.execute(select(t.subjects).where(t.subjects.c.id == "alex")).mappings().one()
        )
        actions = list(
            connection.execute(
                select(t.ledger_entries.c.action).where(
                    t.ledger_entries.c.action.startswith("erase")
                )
            ).scalars()
        )
    assert request["state"] == "done"
    assert (request["deadline"] - request["requested_at"]).days == 30
    assert request["unreadable_at"] <= request["completed_at"]
    assert (person["name"], person["contact"]) == ("(erased)", None)
    assert person["retired_at"] is not None
    assert actions == ["erase.request", "erase.unreadable", "erase.done"]


def test_an_erasure_interrupted_after_the_key_is_destroyed_finishes_when_run_again(
    smart_home: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare(smart_home)

    def crash(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("power cut")

    monkeypatch.setattr(shred, "purge", crash)
    with pytest.raises(RuntimeError):
        erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    with smart_home.engine.connect() as connection:
        state = connection.execute(select(tp.erasure_requests.c.state)).scalar_one()
        assert smart_home.keyring.cipher(connection, "alex") is None, "unreadable already"
    assert state == "unreadable"
    assert len(_alexs_rows(smart_home)) == 6, "rows not yet purged"
    monkeypatch.undo()
    outcome = erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    assert outcome.readings_purged == 6
    assert _alexs_rows(smart_home) == []
    with smart_home.engine.connect() as connection:
        assert connection.execute(select(tp.erasure_requests.c.state)).scalar_one() == "done"


def test_an_erasure_interrupted_after_the_purge_counts_every_reading_in_its_receipt(
    smart_home: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _prepare(smart_home)

    def crash(*_args: object, **_kwargs: object) -> str:
        raise RuntimeError("power cut")

    monkeypatch.setattr(shred, "_finish", crash)
    with pytest.raises(RuntimeError):
        erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    assert _alexs_rows(smart_home) == [], "purged before the power cut"
    monkeypatch.undo()
    outcome = erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    assert outcome.readings_purged == 6
    receipt = verify(outcome.receipt, smart_home.signer.public_key()).receipt
    assert receipt["outcome"]["readings_deleted"] == 6
    with smart_home.engine.connect() as connection:
        done = [e for e in ledger.entries(connection) if e.action == "erase.done"]
        stored = connection.execute(select(tp.erasure_requests.c.readings_purged)).scalar_one()
    assert [dict(e.counts)["readings"] for e in done] == [6]
    assert stored == 6


def test_keeping_aggregates_unlinks_daily_totals_from_the_person(smart_home: Hub) -> None:
    _prepare(smart_home)
    outcome = erase_subject(
        smart_home.engine, smart_home.keyring, smart_home.signer, "alex", keep_aggregates=True
    )
    assert outcome.mode == "unlinked"
    with smart_home.engine.connect() as connection:
        rows = connection.execute(select(tp.unlinked_aggregates)).mappings().all()
    assert sum(row["count"] for row in rows) == 6
    heart_mean = pytest.approx(sum(HEARTS) / len(HEARTS))
    across_midnight = len({row["day"] for row in rows}) > 1
    assert across_midnight or any(row["mean"] == heart_mean for row in rows)
    assert not any("alex" in str(value) for row in rows for value in row.values())
    receipt = json.loads(outcome.receipt)["receipt"]
    assert receipt["mode"] == "unlinked"
    assert receipt["outcome"]["unlinked_daily_aggregates_kept"] == len(rows)


def _needles(before: list[tuple[str, int, float, bytes]], wrapped: bytes) -> list[bytes]:
    needles = [wrapped, *(sealed[12:] for *_, sealed in before)]
    for value in HEARTS:
        needles += [repr(value).encode(), struct.pack(">d", value), struct.pack("<d", value)]
    return needles


def test_no_key_ciphertext_or_value_of_the_person_is_left_in_the_file_or_wal(home: Home) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        _prepare(hub)
        before = _alexs_rows(hub)
        wrapped = hub.keyring.vault.read("alex")
        assert wrapped is not None

        def on_disk(pattern: str = "**/*") -> bytes:
            return b"".join(p.read_bytes() for p in home.root.glob(pattern) if p.is_file())

        contents = on_disk()
        assert wrapped in contents, "the scan can see the key before erasure"
        assert wrapped not in on_disk("goodthings.db*"), "no key is ever in the database"
        assert any(sealed[12:] in contents for *_, sealed in before)
        erase_subject(hub.engine, hub.keyring, hub.signer, "alex")
        contents = on_disk()
        for needle in _needles(before, wrapped):
            assert needle not in contents
    finally:
        hub.close()
    contents = b"".join(p.read_bytes() for p in home.root.glob("**/*") if p.is_file())
    assert wrapped not in contents


def test_a_person_erases_themselves_in_the_portal(home: Home) -> None:
    init_from_template(home, "smart-home")
    app = create_app(home)
    with TestClient(app, base_url=BASE) as client:
        hub: Hub = app.state.hub
        _prepare(hub)
        spare = invite(hub, "alex")
        csrf = sign_in(client, hub, "alex")
        refused = client.post("/portal/erase", data={"csrf": csrf})
        assert refused.status_code == 422 and len(_alexs_rows(hub)) == 6
        done = client.post("/portal/erase", data={"csrf": csrf, "confirm": "yes"})
        assert done.status_code == 200
        assert "6 readings were deleted" in done.text
        assert _alexs_rows(hub) == []
        assert "Your code" in client.get("/portal").text, "signed out"
        path = spare.link.removeprefix(BASE)
        page = client.get(path)
        again = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
        assert again.status_code == 400, "earlier sign-in letters stop working"
        with hub.engine.connect() as connection:
            document = connection.execute(select(tp.erasure_requests.c.receipt)).scalar_one()
        assert verify(document, hub.signer.public_key()).receipt["method"] == "portal"


def test_erase_command_asks_lists_and_erases(
    smart_home: Hub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _prepare(smart_home)
    if smart_home.home.database_url_override:
        monkeypatch.setenv("GOODTHINGS_DATABASE_URL", smart_home.home.database_url_override)
    home = ["--home", str(smart_home.home.root)]
    assert run(capsys, "erase", *home).out.strip() == "No erasure requests are open."
    shred.request_erasure(smart_home.engine, smart_home.signer, "alex", method="portal")
    listed = run(capsys, "erase", *home)
    assert "alex: requested" in listed.out and "via portal" in listed.out
    ran = run(capsys, "erase", "alex", "--yes", *home)
    assert ran.code == 0, ran.err
    assert "6 readings deleted" in ran.err
    receipt = tmp_path / "erasure.json"
    receipt.write_text(ran.out)
    key = smart_home.home.keys_dir / "signing.pub"
    assert run(capsys, "receipt", "verify", str(receipt), "--public-key", str(key)).code == 0
    assert run(capsys, "erase", "alex", "--yes", *home).code == 1, "there is no one left to erase"


def test_under_review_a_portal_request_waits_for_the_operator(
    home: Home, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOODTHINGS_ERASURE_REVIEW", "true")
    monkeypatch.setenv("GOODTHINGS_ERASURE_DAYS", "14")
    init_from_template(home, "smart-home")
    app = create_app(resolve_home(home.root))
    with TestClient(app, base_url=BASE) as client:
        hub: Hub = app.state.hub
        _prepare(hub)
        csrf = sign_in(client, hub, "alex")
        answer = client.post("/portal/erase", data={"csrf": csrf, "confirm": "yes"})
        assert answer.status_code == 200 and "Your request is recorded" in answer.text
        assert len(_alexs_rows(hub)) == 6, "nothing erased before the operator acts"
        with hub.engine.connect() as connection:
            request = connection.execute(select(tp.erasure_requests)).mappings().one()
        assert request["state"] == "requested"
        assert (request["deadline"] - request["requested_at"]).days == 14
    listed = run(capsys, "erase", "--home", str(home.root))
    assert "alex: requested" in listed.out and "requested" in listed.out
    assert run(capsys, "erase", "alex", "--yes", "--home", str(home.root)).code == 0
    hub = Hub.open(home)
    try:
        assert _alexs_rows(hub) == []
    finally:
        hub.close()


def test_purging_lets_ingest_go_on_between_batches(home: Home) -> None:
    init_from_template(home, "smart-home")
    hub = Hub.open(home)
    try:
        _prepare(hub)
        start = time.time() - 50_000
        for offset in range(0, 40_000, 5000):
            pack = [{"bt": start + offset, "n": "steps", "v": 1.0}] + [
                {"n": "steps", "t": i, "v": float(i)} for i in range(1, 5000)
            ]
            hub.pipeline.ingest([Incoming("band-alex", json.dumps(pack).encode(), time.time())])
        shred.make_unreadable(hub.engine, hub.keyring, hub.signer, "alex", "test")
        done = threading.Event()
        purged: list[int] = []

        def purge() -> None:
            purged.append(shred.purge(hub.engine, "alex", batch=1000))
            done.set()

        worker = threading.Thread(target=purge)
        worker.start()
        during = 0
        while not done.is_set():
            if (
                send(hub, "thermostat-1", "temperature", [20.0 + during / 100]) == 1
                and not done.is_set()
            ):
                during += 1
        worker.join()
        assert purged == [40_006]
        assert during >= 1, "ingest waited for the whole purge"
    finally:
        hub.close()
