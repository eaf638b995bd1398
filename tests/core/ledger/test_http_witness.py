"""A second goodthings instance as the hub's witness over HTTP: two real hubs on loopback, the
witness taking only checkpoints signed by the hub's key that continue what it holds, and
`ledger verify --witness-url` catching a rollback the hub's database alone no longer shows."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import httpx2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, update

from cli_helpers import run
from goodthings.core import ledger
from goodthings.core.config import Home
from goodthings.core.keys import SIGNING_PUBLIC_KEY, rotate_signing
from goodthings.core.ledger.keychain import sign_key_change
from goodthings.core.store import tables as t
from goodthings.deployment import open_store
from goodthings.runtime.hub import Hub
from goodthings.runtime.witness_push import WitnessPusher
from hubs import HOST, clean_environment, free_port, serving
from portal_helpers import give, send
from templates import init_from_template


@contextmanager
def _witness(root: Path, peer_key: Path | None, port: int | None = None) -> Iterator[str]:
    """`goodthings serve` of another deployment, configured as the witness of `peer_key`."""
    init_from_template(Home(root), "smart-home")
    port = port or free_port()
    environment = clean_environment()
    if peer_key is not None:
        environment["GOODTHINGS_WITNESS_PEER_KEY"] = str(peer_key)
    command = [sys.executable, "-m", "goodthings", "serve", "--home", str(root)]
    command += ["--port", str(port), "--mqtt-port", "0"]
    log = (root.parent / "witness.log").open("ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    base = f"http://{HOST}:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError((root.parent / "witness.log").read_text())
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):  # noqa: S310 (loopback)
                    break
            except OSError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def _activity(hub: Hub, rounds: int = 3) -> None:
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    for step in range(rounds):
        send(hub, "band-alex", "heart_rate", [60.0 + step], time.time() - 1000 + step)
        ledger.sign_head(hub.engine, hub.signer)


def test_the_witness_keeps_the_hubs_checkpoints_and_exposes_a_rollback(
    smart_home: Hub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = smart_home
    key = hub.home.keys_dir / SIGNING_PUBLIC_KEY
    mine = Ed25519PrivateKey.generate()
    port = free_port()
    client = httpx2.Client(timeout=10)
    pusher = WitnessPusher(hub.engine, f"http://{HOST}:{port}", client)
    _activity(hub)
    with pytest.raises(httpx2.HTTPError):
        pusher.run()  # the witness is down: the job logs it and tries again at its next turn
    with _witness(tmp_path / "witness", key, port) as url, closing(client):
        with hub.engine.connect() as connection:
            signed = ledger.checkpoints(connection)
        assert pusher.run() == len(signed) >= 3
        assert pusher.run() == 0, "nothing new to push"
        held = client.get(f"{url}/witness/checkpoints").json()
        assert held == [asdict(checkpoint) for checkpoint in signed]

        # The witness refuses what would roll it back, fork it, or is not signed by the hub.
        newest, older = signed[-1], signed[0]
        endpoint = f"{url}/witness/checkpoints"
        assert client.post(endpoint, json=asdict(newest)).status_code == 200, "a retry"
        assert client.post(endpoint, json=asdict(older)).status_code == 409
        forked = replace(newest, hash="f" * 64)
        assert client.post(endpoint, json=asdict(forked)).status_code == 422
        other = ledger.sign_checkpoint(
            ledger.Entry(newest.seq + 5, "", "", "", "", None, {}, "", "", "a" * 64),
            Ed25519PrivateKey.generate(),
            ledger.utc_timestamp(),
        )
        refused = client.post(endpoint, json=asdict(other))
        assert refused.status_code == 422 and "another key" in refused.json()["detail"]
        assert len(client.get(endpoint).json()) == len(signed)

        home = ["--home", str(hub.home.root), "--no-witness"]
        if hub.home.database_url_override:
            monkeypatch.setenv("GOODTHINGS_DATABASE_URL", hub.home.database_url_override)
        intact = run(capsys, "ledger", "verify", *home, "--witness-url", url)
        assert intact.code == 0, intact.err
        assert f"{len(signed)} checkpoints the witness" in intact.out

        # The hub's key is rotated: the witness takes the change, then the new key's checkpoints.
        forged = sign_key_change(0, ledger.utc_timestamp(), Ed25519PrivateKey.generate(), mine)
        refused = client.post(f"{url}/witness/keys", json=asdict(forged))
        assert refused.status_code == 422
        rotate_signing(hub.home.keys_dir, hub.engine)
        _activity(hub)
        assert pusher.run() >= 3
        with hub.engine.connect() as connection:
            signed = ledger.checkpoints(connection)
        assert client.get(endpoint).json() == [asdict(checkpoint) for checkpoint in signed]
        rotated = run(capsys, "ledger", "verify", *home, "--witness-url", url)
        assert rotated.code == 0, rotated.err

        # A rollback by direct SQL: newest entries, checkpoints and key changes gone, the head
        # moved back.
        keep = older.seq
        with hub.engine.begin() as connection:
            connection.execute(delete(t.ledger_entries).where(t.ledger_entries.c.seq > keep))
            connection.execute(
                delete(t.ledger_checkpoints).where(t.ledger_checkpoints.c.seq > keep)
            )
            connection.execute(delete(t.ledger_keys).where(t.ledger_keys.c.seq > keep))
            connection.execute(
                update(t.ledger_head).values(
                    seq=keep, hash=older.hash, checkpoint_seq=keep, key_id=None
                )
            )
        assert run(capsys, "ledger", "verify", *home).code == 0, "the database alone is fooled"
        caught = run(capsys, "ledger", "verify", *home, "--witness-url", url)
        assert caught.code == 1
        # The key history went with the rollback, so the witness's old-key checkpoints are what
        # no longer verifies with today's key.
        assert "witness" in caught.err


def test_an_instance_that_is_not_a_witness_says_so(tmp_path: Path) -> None:
    with _witness(tmp_path / "plain", None) as url:
        answer = httpx2.get(f"{url}/witness/checkpoints", timeout=10)
    assert answer.status_code == 404
    assert "not a witness" in answer.json()["detail"]


def _held(url: str) -> list[dict[str, object]]:
    answer = httpx2.get(f"{url}/witness/checkpoints", timeout=10)
    answer.raise_for_status()
    held = answer.json()
    assert isinstance(held, list)
    return held


def _until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.2)


def test_serve_pushes_its_checkpoints_to_the_witness_which_then_exposes_a_rollback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: a witness instance and a serving hub, both real `goodthings serve`
    processes; the hub's background job pushes every checkpoint it signs, `ledger verify
    --witness-url` passes, and after a rollback by direct SQL the verify fails and the hub,
    started again, reports it."""
    home = Home(tmp_path / "hub")
    init_from_template(home, "smart-home")
    key = home.keys_dir / SIGNING_PUBLIC_KEY
    verify = ["ledger", "verify", "--home", str(home.root), "--no-witness"]
    with _witness(tmp_path / "witness", key) as url:
        environment = {"GOODTHINGS_WITNESS_URL": url}
        with serving(home.root, "--mqtt-port", "0", env=environment) as serve:
            hub = Hub.open(home)
            try:
                _activity(hub, rounds=4)
                with hub.engine.connect() as connection:
                    signed = [asdict(c) for c in ledger.checkpoints(connection)]
            finally:
                hub.close()
            assert len(signed) >= 4
            _until(lambda: _held(url) == signed, "the witness holds every checkpoint")
            assert "rolled back" not in serve.output()
        intact = run(capsys, *verify, "--witness-url", url)
        assert intact.code == 0, intact.err
        assert f"{len(signed)} checkpoints the witness" in intact.out

        keep = int(str(signed[0]["seq"]))
        engine = open_store(home)
        try:
            with engine.begin() as connection:
                connection.execute(delete(t.ledger_entries).where(t.ledger_entries.c.seq > keep))
                connection.execute(
                    delete(t.ledger_checkpoints).where(t.ledger_checkpoints.c.seq > keep)
                )
                connection.execute(
                    update(t.ledger_head).values(
                        seq=keep, hash=signed[0]["hash"], checkpoint_seq=keep
                    )
                )
        finally:
            engine.dispose()
        assert run(capsys, *verify).code == 0, "the database alone is fooled"
        caught = run(capsys, *verify, "--witness-url", url)
        assert caught.code == 1
        assert "witness" in caught.err
        with serving(home.root, "--mqtt-port", "0", env=environment) as serve:
            _until(lambda: "rolled back or rewritten" in serve.output(), "serve reports it")
        assert len(_held(url)) == len(signed), "the witness kept what it held"
