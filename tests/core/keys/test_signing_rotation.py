"""Signing-key rotation: a new key signs from the change on in every process, the ledger
records the change signed by both keys, everything signed before and after verifies with
either key, a forged key change is refused, and the old private key is gone."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, update
from typer.testing import CliRunner

from goodthings.cli import app
from goodthings.core import ledger
from goodthings.core.keys import (
    SIGNING_PUBLIC_KEY,
    load_public_key,
    load_signing_key,
    rotate_signing,
)
from goodthings.core.keys.files import NEXT_SIGNING_KEY
from goodthings.core.keys.signing import pem, read_history
from goodthings.core.ledger.keychain import ROTATE_SIGNING, sign_key_change
from goodthings.core.store import tables as t
from goodthings.deployment import restore_backup, take_backup
from goodthings.rights.consent import records as consent
from goodthings.rights.receipts import ReceiptError
from goodthings.rights.receipts import verify as verify_receipt
from goodthings.rights.receipts.consent import document
from goodthings.runtime.hub import Hub
from hubs import clean_environment
from kill_helpers import keys_command, kill_once_started
from portal_helpers import give, send

SIGNER = Path(__file__).with_name("signing_process.py")


def _receipt(hub: Hub) -> str:
    record = consent.give(
        hub.engine,
        hub.signer,
        consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation"),
    )
    with hub.engine.connect() as connection:
        text = document(connection, "alex", record.receipt_id)
    assert text is not None
    return text


def _checkpoint_keys(hub: Hub) -> list[tuple[int, str]]:
    with hub.engine.connect() as connection:
        return [(c.seq, c.key_id) for c in ledger.checkpoints(connection)]


def test_a_rotation_under_ingest_in_two_processes_verifies_old_and_new(
    smart_home: Hub, tmp_path: Path
) -> None:
    hub = smart_home
    keys_dir = hub.home.keys_dir
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    old_public = load_public_key(keys_dir / SIGNING_PUBLIC_KEY)
    old_receipt = _receipt(hub)
    url = hub.home.database_url_override
    command = [sys.executable, str(SIGNER), str(hub.home.root), *([url] if url else [])]
    stored = {"here": 0}
    failures: list[BaseException] = []
    stop = threading.Event()

    def ingest() -> None:
        try:
            started = time.time() - 50_000
            step = 0
            while not stop.is_set():
                step += 1
                stored["here"] += send(hub, "band-alex", "heart_rate", [70.0], started + step)
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=clean_environment()
    ) as second:
        assert second.stdin is not None and second.stdout is not None
        ready = json.loads(second.stdout.readline())
        assert ready == {"ready": ledger.key_id(old_public)}
        worker = threading.Thread(target=ingest)
        worker.start()
        try:
            time.sleep(0.2)
            rotation = rotate_signing(keys_dir, hub.engine)
            time.sleep(0.2)  # both keep ingesting, now under the new key
        finally:
            stop.set()
            worker.join(timeout=60)
            second.stdin.write("done\n")
            second.stdin.flush()
        after = json.loads(second.stdout.readline())
        second.wait(timeout=60)
    assert second.returncode == 0
    assert not failures, failures

    new_public = load_public_key(keys_dir / SIGNING_PUBLIC_KEY)
    assert rotation.old_key_id == ledger.key_id(old_public)
    assert rotation.new_key_id == ledger.key_id(new_public) != rotation.old_key_id
    assert after["key_id"] == rotation.new_key_id, "the second process follows without restart"
    assert after["signed"] == rotation.new_key_id
    assert after["stored"] > 1 and stored["here"] > 0
    # The old private key is gone; only the new one is on disk.
    assert sorted(p.name for p in keys_dir.glob("signing.key*")) == ["signing.key"]
    assert ledger.key_id(load_signing_key(keys_dir).public_key()) == rotation.new_key_id

    # Every checkpoint before the change is the old key's, from the change on the new key's.
    signed = _checkpoint_keys(hub)
    assert (rotation.seq, rotation.new_key_id) in signed
    assert all(
        key == (rotation.old_key_id if seq < rotation.seq else rotation.new_key_id)
        for seq, key in signed
    )
    assert any(seq > rotation.seq for seq, _ in signed), "checkpoints were signed after it"
    with hub.engine.connect() as connection:
        entry = next(e for e in ledger.entries(connection) if e.seq == rotation.seq)
    assert entry.action == ROTATE_SIGNING
    assert entry.object == f"signing-key:{rotation.old_key_id}->{rotation.new_key_id}"

    for trusted in (old_public, new_public):
        result = ledger.check(hub.engine, trusted, max_unsigned_tail=100)
        assert result.ok, result.reason
    history = ledger.stored_history(hub.engine, old_public).keys
    for receipt in (old_receipt, after["receipt"], _receipt(hub)):
        for trusted in (old_public, new_public):
            assert verify_receipt(receipt, trusted, history=history).receipt["kind"] == "consent"
    assert verify_receipt(after["receipt"], new_public).key_id == rotation.new_key_id
    with pytest.raises(ReceiptError):
        verify_receipt(after["receipt"], old_public)  # without the history, keys do not mix


def test_receipt_and_ledger_verify_on_the_command_line_accept_both_keys(
    smart_home: Hub, tmp_path: Path
) -> None:
    hub = smart_home
    keys_dir = hub.home.keys_dir
    (tmp_path / "old.pub").write_bytes((keys_dir / SIGNING_PUBLIC_KEY).read_bytes())
    receipts = tmp_path / "receipts"
    receipts.mkdir()
    (receipts / "before.json").write_text(_receipt(hub))
    runner = CliRunner()
    home = ["--home", str(hub.home.root)]
    env = {"GOODTHINGS_DATABASE_URL": hub.home.database_url_override or ""}
    env = {k: v for k, v in env.items() if v}
    rotated = runner.invoke(app, ["keys", "rotate-signing", *home], env=env)
    assert rotated.exit_code == 0, rotated.output
    assert "Rotated the signing key" in rotated.output
    (receipts / "after.json").write_text(_receipt(hub))
    for key in (tmp_path / "old.pub", keys_dir / SIGNING_PUBLIC_KEY):
        checked = runner.invoke(
            app,
            ["ledger", "verify", *home, "--public-key", str(key), "--receipts", str(receipts)],
            env=env,
        )
        assert checked.exit_code == 0, checked.output
        assert "intact" in checked.output
        for name in ("before.json", "after.json"):
            receipt = runner.invoke(
                app,
                ["receipt", "verify", str(receipts / name), "--public-key", str(key), *home],
                env=env,
            )
            assert receipt.exit_code == 0, receipt.output
    alone = runner.invoke(
        app,
        [
            "receipt",
            "verify",
            str(receipts / "after.json"),
            "--public-key",
            str(tmp_path / "old.pub"),
        ],
    )
    assert alone.exit_code == 1, "without the deployment's history the old key refuses"


def test_a_key_change_not_signed_by_the_previous_key_is_refused(smart_home: Hub) -> None:
    """An operator with database access but without the signing key hands the ledger over to
    a key of their own: every signature of theirs is valid, only the old key's is missing."""
    hub = smart_home
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    send(hub, "band-alex", "heart_rate", [61.0, 62.0])
    trusted = hub.signer.public_key()
    mine = Ed25519PrivateKey.generate()
    with hub.engine.begin() as connection:
        current = ledger.head(connection)
        change = sign_key_change(current.seq + 1, ledger.utc_timestamp(), mine, mine)
        forged = replace(
            change, old_public_key=base64.b64encode(trusted.public_bytes_raw()).decode()
        )
        connection.execute(insert(t.ledger_keys), asdict(forged))
    result = ledger.check(hub.engine, trusted)
    assert not result.ok
    assert "not signed by the previous key" in (result.reason or "")


def test_deleting_the_key_history_is_caught(smart_home: Hub) -> None:
    hub = smart_home
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    trusted = hub.signer.public_key()
    rotate_signing(hub.home.keys_dir, hub.engine)
    send(hub, "band-alex", "heart_rate", [61.0, 62.0])
    assert ledger.check(hub.engine, trusted).ok
    with hub.engine.begin() as connection:
        connection.execute(t.ledger_keys.delete())
    result = ledger.check(hub.engine, trusted)
    assert not result.ok
    assert "signed by another key" in (result.reason or "") or "history" in (result.reason or "")
    with hub.engine.begin() as connection:
        connection.execute(update(t.ledger_head).values(key_id=None))
    assert not ledger.check(hub.engine, trusted).ok


def test_a_rotation_interrupted_after_the_change_resumes(smart_home: Hub) -> None:
    """Killed after the change committed and before the files moved: the next run finishes."""
    hub = smart_home
    keys_dir = hub.home.keys_dir
    trusted = hub.signer.public_key()
    next_key = Ed25519PrivateKey.generate()
    # The files a run killed just after the change committed leaves behind.
    (keys_dir / "signing.key.next").write_bytes(pem(next_key))
    (keys_dir / "signing.key.next").chmod(0o600)
    ledger.change_key(hub.engine, load_signing_key(keys_dir), next_key)
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))  # signed by the new key
    assert _checkpoint_keys(hub)[-1][1] == ledger.key_id(next_key.public_key())
    rotation = rotate_signing(keys_dir, hub.engine)
    assert rotation.new_key_id == ledger.key_id(next_key.public_key())
    assert sorted(p.name for p in keys_dir.glob("signing.key*")) == ["signing.key"]
    assert load_public_key(keys_dir / SIGNING_PUBLIC_KEY) == next_key.public_key()
    assert ledger.check(hub.engine, trusted).ok


def test_a_restore_of_a_backup_from_before_the_rotation_keeps_the_key_history(
    smart_home: Hub, tmp_path: Path
) -> None:
    """The backup's ledger knows only the old key, whose private half is gone: the restored
    ledger takes the change over again, signed as before, and everything verifies."""
    hub = smart_home
    keys_dir = hub.home.keys_dir
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    old_public = hub.signer.public_key()
    take_backup(hub.engine, tmp_path / "backup")
    rotate_signing(keys_dir, hub.engine)
    new_public = load_public_key(keys_dir / SIGNING_PUBLIC_KEY)
    hub.close()
    restore_backup(hub.home, tmp_path / "backup")
    restored = Hub.open(hub.home)
    try:
        give(restored, ("alex", "heart_rate", "ServicePersonalisation"))
        send(restored, "band-alex", "heart_rate", [61.0, 62.0])
        ledger.sign_head(restored.engine, restored.signer)
        for trusted in (old_public, new_public):
            result = ledger.check(restored.engine, trusted)
            assert result.ok, result.reason
        with restored.engine.connect() as connection:
            changes = ledger.key_changes(connection)
        assert [c.new_key_id for c in changes] == [ledger.key_id(new_public)]
    finally:
        restored.close()


def test_a_rotation_killed_at_random_points_resumes_and_the_ledger_always_verifies(
    smart_home: Hub,
) -> None:
    hub = smart_home
    keys_dir = hub.home.keys_dir
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    original = hub.signer.public_key()
    command, environment = keys_command(hub, "rotate-signing")
    chance = random.Random()
    interrupted = rounds = 0
    while rounds < 4 or (not interrupted and rounds < 40):
        rounds += 1
        started = keys_dir / NEXT_SIGNING_KEY
        kill_once_started(command, environment, started, chance, within=0.05, poll=0.002)
        interrupted += (keys_dir / NEXT_SIGNING_KEY).exists()
        # Whatever the kill left, a process that opens now signs with the head's key.
        opened = Hub.open(hub.home)
        try:
            give(opened, ("alex", "heart_rate", "ServicePersonalisation"))
            ledger.sign_head(opened.engine, opened.signer)
        finally:
            opened.close()
        result = ledger.check(hub.engine, original)
        assert result.ok, result.reason
    assert interrupted, "at least one rotation was killed half-way"
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert sorted(p.name for p in keys_dir.glob("signing.key*")) == ["signing.key"]
    current = load_public_key(keys_dir / SIGNING_PUBLIC_KEY)
    with hub.engine.connect() as connection:
        changes = ledger.key_changes(connection)
    assert changes[-1].new_key_id == ledger.key_id(current)
    assert [c.new_key_id for c in read_history(keys_dir)] == [c.new_key_id for c in changes]
    for trusted in (original, current):
        assert ledger.check(hub.engine, trusted).ok
