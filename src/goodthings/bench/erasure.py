"""How long an erasure takes to reach every process, and what signing the ledger head costs.

`erase_unreadable_ms`: a probe process opens the hub as a worker does, reads some of the
person's sealed readings with their data key, and keeps one read open. The bench then erases
the person (in its own process, as `goodthings erase` does) and the probe reports the moment
neither its open read nor a new one opens anything: from the request to that moment is the
figure. The probe stands for every other worker: they all learn of the shred the same way.

`ledger_sign_ms`: what signing the head adds to an append: the Ed25519 signature and the
checkpoint row, written in transactions that are rolled back so the bench's ledger is left as
it was.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert

from goodthings.bench.hubs import hub_environment
from goodthings.bench.load import BenchError
from goodthings.core import ledger
from goodthings.core.config import Home, resolve_home
from goodthings.core.keys import UNREADABLE, Keyring, KeyVault, ReadingOpener, load_master_key
from goodthings.core.store import Selection, select_readings
from goodthings.core.store import tables as t
from goodthings.rights.erasure import erase_subject
from goodthings.runtime.hub import Hub

_KEPT = 50
"""Sealed readings the probe keeps to try to open again after the erasure."""


@dataclass(frozen=True)
class ErasureFigures:
    unreadable_ms: float
    """From the erasure request to the moment another process opens none of the readings."""
    readings_erased: int
    """The person's readings the erasure purged afterwards."""


def measure_erasure(
    home: Home, engine: Engine, signer: Ed25519PrivateKey, subject_id: str, timeout: float = 30.0
) -> ErasureFigures:
    """Erase `subject_id` while a probe process holds their key; see the module docstring."""
    command = [sys.executable, "-m", "goodthings.bench.erasure", str(home.root), subject_id]
    env = hub_environment(home.database_url_override)
    with subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as probe:
        assert probe.stdout is not None and probe.stderr is not None
        ready = probe.stdout.readline()
        if not ready.startswith("ready"):
            probe.kill()
            raise BenchError(f"the erasure probe did not start: {probe.stderr.read()[-2000:]}")
        requested = time.time()
        keyring = Keyring(load_master_key(home.keys_dir), KeyVault.of(home))
        outcome = erase_subject(engine, keyring, signer, subject_id)
        try:
            answer, errors = probe.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            probe.kill()
            raise BenchError(
                f"another process could still open {subject_id}'s readings {timeout:.0f} s "
                "after the erasure: erasure does not reach every process"
            ) from None
    if probe.returncode != 0:
        raise BenchError(f"the erasure probe failed: {errors[-2000:]}")
    unreadable_at = float(json.loads(answer)["unreadable_at"])
    return ErasureFigures((unreadable_at - requested) * 1000, outcome.readings_purged)


def measure_signing(engine: Engine, signer: Ed25519PrivateKey, rounds: int = 200) -> float:
    """Milliseconds that signing the ledger head adds to an append (the median of `rounds`):
    the Ed25519 signature and the checkpoint row, in a transaction that is rolled back."""
    with engine.connect() as connection:
        current = ledger.head(connection)
    # An entry far past the head, so the workers (still appending and signing) never reach its
    # seq: its checkpoint row can be written, then rolled back.
    seq = current.seq + 10**9
    newest = ledger.Entry(seq, "", "", "", "", None, {}, "", current.hash, "0" * 64)
    times = []
    for _ in range(rounds):
        with engine.connect() as connection:
            started = time.perf_counter()
            checkpoint = ledger.sign_checkpoint(newest, signer, ledger.utc_timestamp())
            connection.execute(insert(t.ledger_checkpoints).values(**asdict(checkpoint)))
            times.append(time.perf_counter() - started)
            connection.rollback()
    return statistics.median(times) * 1000


def _probe(root: Path, subject_id: str) -> None:
    """The probe process: hold the person's key, then wait until nothing of theirs opens."""
    hub = Hub.open(resolve_home(root))  # the database the bench gave it, as to its workers
    try:
        with hub.engine.connect() as connection:
            kept = list(select_readings(connection, Selection(subject_id=subject_id, limit=_KEPT)))
        held_connection = hub.engine.connect()
        held = ReadingOpener(hub.keyring, held_connection)
        if not kept or any(held.open(reading) is UNREADABLE for reading in kept):
            raise BenchError(f"the probe found no readable readings of {subject_id} to erase")
        print("ready", flush=True)
        while True:
            with hub.engine.connect() as connection:
                fresh = ReadingOpener(hub.keyring, connection)
                opened = any(fresh.open(reading) is not UNREADABLE for reading in kept)
            opened = opened or any(held.open(reading) is not UNREADABLE for reading in kept)
            if not opened:
                break
            time.sleep(0.001)
        print(json.dumps({"unreadable_at": time.time()}), flush=True)
        held_connection.close()
    finally:
        hub.close()


if __name__ == "__main__":
    _probe(Path(sys.argv[1]), sys.argv[2])
