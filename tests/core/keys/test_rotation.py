"""Master-key rotation: every data key re-wrapped under a new master while ingest goes on,
every reading old and new opening with the new master alone, the old master gone, every
secret derived from the master unchanged, and a rotation killed at any point resumable."""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import insert

from goodthings.core import ledger
from goodthings.core.errors import DeploymentError
from goodthings.core.keys import (
    UNREADABLE,
    Keyring,
    KeyVault,
    ReadingOpener,
    SecretRoot,
    UnreadableError,
    load_master_key,
    load_secret_root,
    rotate_master,
)
from goodthings.core.keys.masters import (
    NEXT_MASTER_KEY,
    RETIRED_MASTER_KEY,
    master_id,
    masters_on_disk,
)
from goodthings.core.keys.rotation import ROTATING_LOCK
from goodthings.core.store import Selection, select_readings
from goodthings.core.store import tables as t
from goodthings.policy.identifiers import IdentifierKey
from goodthings.rights.sharing.signing import WebhookSecrets
from goodthings.runtime.hub import Hub
from goodthings.security.credentials import fingerprint_key
from kill_helpers import keys_command, kill_once_started
from portal_helpers import give, send

EXTRA = [f"tenant-{number:03}" for number in range(120)]
"""Holders with a key and no readings: enough key files that a rotation takes a while."""


def _add_holders(hub: Hub) -> None:
    with hub.engine.begin() as connection:
        connection.execute(
            insert(t.subjects),
            [{"id": h, "name": h, "role": "tenant", "language": "en"} for h in EXTRA],
        )
        hub.keyring.load(connection, EXTRA, create=True)


def _raw_keys(keyring: Keyring, hub: Hub, holders: list[str]) -> dict[str, bytes | None]:
    with hub.engine.connect() as connection:
        return {holder: keyring.raw_key(connection, holder) for holder in holders}


def _alone(hub: Hub, master: bytes, copy: Path) -> Keyring:
    """A keyring that has `master` and nothing else: the key files copied where no master is."""
    shutil.copytree(hub.home.data_keys_dir, copy / "keys" / "data")
    return Keyring(master, KeyVault(copy / "keys" / "data", copy / "erasures.jsonl"))


def _opened(hub: Hub, keyring: Keyring) -> list[object]:
    with hub.engine.connect() as connection:
        opener = ReadingOpener(keyring, connection)
        return [opener.open(row) for row in select_readings(connection, Selection())]


def test_a_rotation_under_ingest_leaves_everything_open_under_the_new_master_alone(
    smart_home: Hub, tmp_path: Path
) -> None:
    hub = smart_home
    keys_dir = hub.home.keys_dir
    give(hub, ("alex", "heart_rate", "ServicePersonalisation"))
    assert send(hub, "band-alex", "heart_rate", [61.0, 62.0]) == 2
    _add_holders(hub)
    old = load_master_key(keys_dir)
    root = load_secret_root(keys_dir)
    derived = (
        WebhookSecrets(root).secret("northgrid-energy"),
        fingerprint_key(root),
        IdentifierKey(root).digest("aa:bb:cc:dd:ee:ff"),
        hub.keyring.tag("alex"),
    )
    stored = {"heart_rate": 2, "power": 0}
    failures: list[BaseException] = []
    stop = threading.Event()

    def ingest() -> None:
        # Heart rates all along; once the next master is on disk, a first key for the place
        # (power is about both tenants) is made in the middle of the rotation.
        try:
            started = time.time() - 10_000
            step = 0
            while not stop.is_set():
                step += 1
                stored["heart_rate"] += send(hub, "band-alex", "heart_rate", [70.0], started + step)
                if stored["power"] == 0 and (keys_dir / NEXT_MASTER_KEY).exists():
                    give(
                        hub,
                        ("alex", "power", "OptimisationForConsumer"),
                        ("sam", "power", "OptimisationForConsumer"),
                    )
                    stored["power"] += send(hub, "meter-1", "power", [512.5, 498.25])
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    worker = threading.Thread(target=ingest)
    worker.start()
    try:
        rotation = rotate_master(hub.keyring.vault, hub.engine, hub.signer)
    finally:
        stop.set()
        worker.join(timeout=120)
    assert not failures, failures
    assert stored["power"] == 2, "a key was made during the rotation"
    assert rotation.rewrapped >= len(EXTRA) + 1

    new = load_master_key(keys_dir)
    assert new != old
    with hub.engine.connect() as connection:
        recorded = [e for e in ledger.entries(connection) if e.action == "keys.rotate-master"]
    assert len(recorded) == 1
    assert recorded[0].actor == "operator"
    assert recorded[0].object == f"master-key:{master_id(old).hex()}->{master_id(new).hex()}"
    assert recorded[0].counts == {"rewrapped": rotation.rewrapped, "already": rotation.already}
    assert old.hex() not in repr(recorded[0]) and new.hex() not in repr(recorded[0])
    assert ledger.check(hub.engine, hub.signer.public_key()).ok
    assert sorted(p.name for p in keys_dir.glob("master.key*")) == ["master.key"]
    assert not (keys_dir / RETIRED_MASTER_KEY).exists()
    assert masters_on_disk(keys_dir) == [new]

    alone = _alone(hub, new, tmp_path / "new-alone")
    values = _opened(hub, alone)
    assert len(values) == sum(stored.values())
    assert UNREADABLE not in values
    with pytest.raises(UnreadableError, match="does not open with this deployment's master"):
        _opened(hub, _alone(hub, old, tmp_path / "old-alone"))
    assert UNREADABLE not in _opened(hub, hub.keyring), "the running hub still opens everything"

    root = load_secret_root(keys_dir)
    assert derived == (
        WebhookSecrets(root).secret("northgrid-energy"),
        fingerprint_key(root),
        IdentifierKey(root).digest("aa:bb:cc:dd:ee:ff"),
        Keyring(new, hub.keyring.vault).tag("alex"),
    )


def test_a_rotation_killed_at_random_points_resumes_and_every_key_still_opens(
    smart_home: Hub,
) -> None:
    hub = smart_home
    keys_dir = hub.home.keys_dir
    _add_holders(hub)
    original = _raw_keys(hub.keyring, hub, EXTRA)
    assert None not in original.values()
    command, environment = keys_command(hub, "rotate-master")
    chance = random.Random()
    interrupted = rounds = 0
    # At least four rounds, and more (up to 40) until one kill lands half-way: a rotation of a
    # few keys is quick, so a random kill often comes after it finished.
    while rounds < 4 or (not interrupted and rounds < 40):
        rounds += 1
        # Past start-up (the next master is on disk), then at a random point of the rest.
        within = 0.5 if interrupted else 0.05
        kill_once_started(command, environment, keys_dir / NEXT_MASTER_KEY, chance, within=within)
        left_half_way = (keys_dir / NEXT_MASTER_KEY).exists()
        interrupted += left_half_way or (keys_dir / RETIRED_MASTER_KEY).exists()
        masters = masters_on_disk(keys_dir)
        assert masters, "a master key is always on disk"
        fresh = Keyring(masters[-1], KeyVault.of(hub.home))  # and finds the other if any
        assert _raw_keys(fresh, hub, EXTRA) == original
    assert interrupted, "at least one rotation was killed half-way"
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert sorted(p.name for p in keys_dir.glob("master.key*")) == ["master.key"]
    assert not list(hub.home.data_keys_dir.glob(".*"))
    only = Keyring(load_master_key(keys_dir), KeyVault.of(hub.home))
    assert _raw_keys(only, hub, EXTRA) == original
    with hub.engine.connect() as connection:
        recorded = [
            e.object for e in ledger.entries(connection) if e.action == "keys.rotate-master"
        ]
    assert len(recorded) == len(set(recorded)) >= 1, "each rotation is recorded once"


def test_secrets_derived_from_the_root_are_those_derived_from_the_master_before() -> None:
    master = os.urandom(32)
    for info in (b"goodthings-webhook:v1:northgrid-energy", b"goodthings password fingerprint"):
        before = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)
        assert SecretRoot.of_master(master).derive(info) == before


def test_a_second_rotation_at_the_same_time_is_refused(smart_home: Hub) -> None:
    keys_dir = smart_home.home.keys_dir
    before = load_master_key(keys_dir)
    fd = os.open(keys_dir / ROTATING_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a running rotation holds
        with pytest.raises(DeploymentError, match="another `goodthings keys rotate-master`"):
            rotate_master(smart_home.keyring.vault, smart_home.engine, smart_home.signer)
    finally:
        os.close(fd)
    assert load_master_key(keys_dir) == before
    assert not (keys_dir / NEXT_MASTER_KEY).exists()
