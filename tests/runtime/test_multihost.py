"""Hub workers on three hosts (network namespaces) sharing one PostgreSQL and one Mosquitto.

What holds across hosts, with real `goodthings serve` processes:

* a consent withdrawn from the command line reaches every worker's gate through PostgreSQL's
  LISTEN/NOTIFY: the workers' own poll is set to half a minute, so nothing else could be that
  quick; afterwards no worker stores the stream's readings;
* an erasure does the same for the person's data key: every worker stops sealing with it;
* the ledger stays one chain while all three workers write at once, `goodthings ledger verify`
  says so, and it finds an entry another worker wrote removed or reordered by direct SQL.

The delays are measured and printed (`-s`, and the test's user properties), not asserted on:
performance is the bench's to judge.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, func, select

from goodthings.core.config import Home
from goodthings.core.keys import (
    Keyring,
    KeyVault,
    load_master_key,
    load_operator_token,
    load_signing_key,
)
from goodthings.core.store import open_engine
from goodthings.core.store import tables as t
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.security.credentials import issue_token
from hubs import clean_environment
from multihost import Worker, mosquitto_on, network, postgres_cluster, serve_on, workers
from templates import init_from_template

HOSTS = 3
ROUNDS = 8
HEART = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation", method="cli")
BAND = "band-alex"
THERMOSTAT = "thermostat-1"


@dataclass
class Cluster:
    home: Home
    engine: Engine
    workers: list[Worker]
    tokens: dict[str, str]
    operator_token: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("multihost")
    with ExitStack() as stack:
        net = stack.enter_context(network(HOSTS))
        subnet = net.host_address.rsplit(".", 1)[0] + ".0/24"
        url = stack.enter_context(postgres_cluster(net.host_address, subnet))
        mqtt_url = stack.enter_context(mosquitto_on(net.host_address, root / "mosquitto"))
        home = Home(root / "deployment", url)
        init_from_template(home, "smart-home")
        engine = open_engine(url)
        stack.callback(engine.dispose)
        with engine.begin() as connection:
            tokens = {device: issue_token(connection, device) for device in (BAND, THERMOSTAT)}
        env = clean_environment() | {
            "GOODTHINGS_DATABASE_URL": url,
            "GOODTHINGS_POLICY_POLL": "30",
            "GOODTHINGS_INGEST_RATE": "100000",
            "GOODTHINGS_INGEST_BURST": "100000",
        }
        started = stack.enter_context(workers())
        for index, host in enumerate(net.hosts):
            log = root / f"worker-{index}.log"
            started.append(serve_on(host, home.root, str(index), mqtt_url, env, log))
        yield Cluster(home, engine, started, tokens, load_operator_token(home.keys_dir), env)


def _post(worker: Worker, token: str, pack: list[dict[str, object]]) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310 - a worker in the test's own namespace
        f"{worker.base}/ingest",
        data=json.dumps(pack).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/senml+json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        assert answer.status == 202
        body: dict[str, object] = json.loads(answer.read())
        return body


_moment = iter(range(10**9))


def _heartbeat(cluster: Cluster, worker: Worker) -> bool:
    """Send one heart-rate reading through `worker`; whether it was stored."""
    at = time.time() - 3600 + next(_moment) / 1000
    body = _post(
        worker,
        cluster.tokens[BAND],
        [{"n": f"{BAND}:heart_rate", "u": "beat/min", "v": 60, "t": at}],
    )
    return body["stored"] == 1


def _gauges(cluster: Cluster, worker: Worker) -> dict[str, float]:
    request = urllib.request.Request(  # noqa: S310
        f"{worker.base}/metrics", headers={"Authorization": f"Bearer {cluster.operator_token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        families = text_string_to_metric_families(answer.read().decode())
        return {
            sample.name: sample.value
            for family in families
            if family.name.startswith(("goodthings_gate", "goodthings_keys", "goodthings_wake"))
            for sample in family.samples
        }


def _until(check: object, what: str, timeout: float = 20.0) -> None:
    """Scraping is slow on purpose: each worker stamps its own reload time, so looking more
    often would only load the workers whose delay is being measured."""
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"after {timeout:.0f} s: {what}"
        time.sleep(0.05)


def _p99(delays: list[float]) -> float:
    ordered = sorted(delays)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def test_workers_on_three_hosts_listen_for_changes(cluster: Cluster) -> None:
    for worker in cluster.workers:
        gauges = _gauges(cluster, worker)
        assert gauges["goodthings_wake_listening"] == 1, worker.host


def test_a_withdrawal_reaches_every_host_through_notify(
    cluster: Cluster, record_property: Callable[[str, object], None]
) -> None:
    signer = load_signing_key(cluster.home.keys_dir)
    delays: list[float] = []
    after_commit: list[float] = []
    for _ in range(ROUNDS):
        consent.give(cluster.engine, signer, HEART)
        for worker in cluster.workers:
            _until(
                lambda w=worker: _heartbeat(cluster, w), f"{worker.host} never stored once given"
            )
        asked = time.time()
        record = consent.withdraw(cluster.engine, signer, HEART)
        committed = time.time()  # and NOTIFY sent
        for worker in cluster.workers:
            _until(
                lambda w=worker, r=record.id: (
                    _gauges(cluster, w)["goodthings_gate_consent_seen"] >= r
                ),
                f"{worker.host} never heard of the withdrawal (its poll is 30 s away)",
            )
            reloaded = _gauges(cluster, worker)["goodthings_gate_reloaded_timestamp_seconds"]
            delays.append(max(0.0, reloaded - asked))
            after_commit.append(max(0.0, reloaded - committed))
            assert not _heartbeat(cluster, worker), f"{worker.host} still stores after reloading"
    figures = {
        "withdrawal_p50_ms": round(statistics.median(delays) * 1000, 1),
        "withdrawal_p99_ms": round(_p99(delays) * 1000, 1),
        "withdrawal_max_ms": round(max(delays) * 1000, 1),
        "after_commit_p50_ms": round(statistics.median(after_commit) * 1000, 1),
        "after_commit_p99_ms": round(_p99(after_commit) * 1000, 1),
        "samples": len(delays),
    }
    record_property("withdrawal", figures)
    print(f"\nwithdrawal across {HOSTS} hosts: {figures}")


def test_the_ledger_stays_one_chain_with_writers_on_every_host(cluster: Cluster) -> None:
    before = _entries(cluster.engine)
    errors: list[BaseException] = []

    def write(worker: Worker, offset: int) -> None:
        try:
            for k in range(30):
                at = time.time() - 7200 + offset + k / 100
                pack = [{"n": f"{THERMOSTAT}:temperature", "u": "Cel", "v": 20 + k, "t": at}]
                body = _post(worker, cluster.tokens[THERMOSTAT], pack)
                assert body["stored"] == 1
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(worker, index * 10))
        for index, worker in enumerate(cluster.workers)
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert _entries(cluster.engine) > before
    assert _verify(cluster).returncode == 0, _verify(cluster).stdout


def test_a_removed_or_reordered_entry_from_another_worker_is_found(cluster: Cluster) -> None:
    with cluster.engine.begin() as connection:
        rows = (
            connection.execute(
                select(t.ledger_entries)
                .where(t.ledger_entries.c.action == "ingest")
                .order_by(t.ledger_entries.c.seq.desc())
                .limit(3)
            )
            .mappings()
            .all()
        )
    newest, middle = dict(rows[0]), dict(rows[1])
    with cluster.engine.begin() as connection:
        connection.execute(t.ledger_entries.delete().where(t.ledger_entries.c.seq == middle["seq"]))
    removed = _verify(cluster)
    with cluster.engine.begin() as connection:
        connection.execute(t.ledger_entries.insert().values(**middle))
    assert removed.returncode == 1, removed.stdout
    assert _verify(cluster).returncode == 0
    with cluster.engine.begin() as connection:  # the two newest ingest entries change places
        connection.execute(
            t.ledger_entries.update().where(t.ledger_entries.c.seq == newest["seq"]).values(seq=-1)
        )
        connection.execute(
            t.ledger_entries.update()
            .where(t.ledger_entries.c.seq == middle["seq"])
            .values(seq=newest["seq"])
        )
        connection.execute(
            t.ledger_entries.update().where(t.ledger_entries.c.seq == -1).values(seq=middle["seq"])
        )
    reordered = _verify(cluster)
    assert reordered.returncode == 1, reordered.stdout


def test_an_erasure_reaches_every_host_through_notify(
    cluster: Cluster, record_property: Callable[[str, object], None]
) -> None:
    signer = load_signing_key(cluster.home.keys_dir)
    consent.give(cluster.engine, signer, HEART)
    for worker in cluster.workers:  # every worker seals with alex's key now
        _until(lambda w=worker: _heartbeat(cluster, w), f"{worker.host} never stored once given")
    keyring = Keyring(load_master_key(cluster.home.keys_dir), KeyVault.of(cluster.home))
    asked = time.time()
    erase_subject(cluster.engine, keyring, signer, "alex")
    with cluster.engine.connect() as connection:
        destroyed, destroyed_at = connection.execute(
            select(t.destroyed_keys.c.id, t.destroyed_keys.c.destroyed_at)
            .order_by(t.destroyed_keys.c.id.desc())
            .limit(1)
        ).one()
    delays = []
    after_shred = []
    for worker in cluster.workers:
        _until(
            lambda w=worker: _gauges(cluster, w)["goodthings_keys_destroyed_seen"] >= destroyed,
            f"{worker.host} never forgot the destroyed key (its poll is 30 s away)",
        )
        seen = _gauges(cluster, worker)["goodthings_keys_destroyed_seen_timestamp_seconds"]
        delays.append(max(0.0, seen - asked))
        after_shred.append(max(0.0, seen - destroyed_at.timestamp()))
        assert not _heartbeat(cluster, worker), f"{worker.host} still seals for alex"
    figures = {
        "erasure_ms": [round(delay * 1000, 1) for delay in delays],
        "erasure_max_ms": round(max(delays) * 1000, 1),
        "after_key_destroyed_ms": [round(delay * 1000, 1) for delay in after_shred],
    }
    record_property("erasure", figures)
    print(f"\nerasure across {HOSTS} hosts: {figures}")


def _entries(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(t.ledger_entries)).scalar_one()
        )


def _verify(cluster: Cluster) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "goodthings", "ledger", "verify", "--home", str(cluster.home.root)],
        capture_output=True,
        text=True,
        env=cluster.env,
        check=False,
    )
