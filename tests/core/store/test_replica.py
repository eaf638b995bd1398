"""A streaming replica made with pg_basebackup serves the readings the portal and the API show,
only while it is proven fresh; consent decisions read the primary; erasure reaches the replica.

The staleness rule is tested with a clock the test moves, so no assertion depends on how fast
this machine is; erasure's delay to the replica is measured by polling and printed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from goodthings.core.config import Home, Settings
from goodthings.core.store import ReadReplica, migrate, open_engine
from goodthings.rights.access import Grant, ReadingsQuery, read_readings
from goodthings.rights.consent import ConsentChange, withdraw
from goodthings.rights.erasure import erase_subject
from goodthings.runtime.hub import Hub
from portal_helpers import give, send
from replicas import Cluster, primary_and_replica, sql, stop
from templates import init_from_template


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Cluster, Cluster]]:
    with primary_and_replica() as clusters:
        yield clusters


def _engines(pair: tuple[Cluster, Cluster]) -> tuple[Engine, Engine]:
    primary, replica = pair
    return open_engine(primary.url), open_engine(replica.url)


def _replayed(replica: Cluster, statement: str, expected: object, within: float = 30) -> float:
    """Seconds until `statement` answers `expected` on the replica (polled every millisecond
    on one open connection, so that the figure is not the cost of connecting)."""
    with psycopg.connect(replica.dsn, autocommit=True) as connection:
        started = time.perf_counter()
        while time.perf_counter() - started < within:
            if connection.execute(statement).fetchall() == expected:
                return time.perf_counter() - started
            time.sleep(0.001)
    raise AssertionError(f"the replica did not show {expected!r} for {statement!r}")


def test_reads_go_to_the_replica_only_while_it_is_proven_fresh(
    pair: tuple[Cluster, Cluster],
) -> None:
    primary_cluster, replica_cluster = pair
    primary, replica = _engines(pair)
    clock = Clock()
    reads = ReadReplica(primary, replica, max_lag=5.0, check_every=0.5, clock=clock)
    # Never checked: nothing is proven, so the primary serves.
    assert reads.staleness() == float("inf")
    sql(primary_cluster, "CREATE TABLE IF NOT EXISTS marks (n int)")
    _replayed(replica_cluster, "SELECT to_regclass('marks') IS NOT NULL", [(True,)])
    reads.check()
    assert reads.engine() is replica
    # The replica stops replaying; the primary goes on committing.
    sql(replica_cluster, "SELECT pg_wal_replay_pause()")
    try:
        sql(primary_cluster, "INSERT INTO marks VALUES (1)")
        clock.now += 1.0
        reads.check()
        assert reads.engine() is replica  # proven fresh 1 s ago: within the 5 s bound
        clock.now += 4.5
        # 5.5 s since the last proof: the check finds the replica behind, the primary serves.
        assert reads.engine() is primary
        assert sql(replica_cluster, "SELECT count(*) FROM marks") == [(0,)]
        assert reads.staleness() > reads.max_lag
    finally:
        sql(replica_cluster, "SELECT pg_wal_replay_resume()")
    _replayed(replica_cluster, "SELECT count(*) FROM marks", [(1,)])
    clock.now += 1.0
    assert reads.engine() is replica  # caught up: proven again
    assert reads.staleness() <= reads.max_lag
    primary.dispose()
    replica.dispose()


def test_a_replica_that_cannot_be_reached_sends_reads_to_the_primary() -> None:
    """A replica that answers nothing (killed, cut off) stops serving once its proof ages."""
    with primary_and_replica() as (primary_cluster, replica_cluster):
        primary, replica = open_engine(primary_cluster.url), open_engine(replica_cluster.url)
        clock = Clock()
        reads = ReadReplica(primary, replica, max_lag=5.0, check_every=0.0, clock=clock)
        reads.check()
        assert reads.engine() is replica
        stop(replica_cluster)
        clock.now += 5.1  # the last proof ages past the bound; the next check fails
        assert reads.engine() is primary
        primary.dispose()
        replica.dispose()


def test_the_primary_itself_is_no_replica(pair: tuple[Cluster, Cluster]) -> None:
    primary_cluster, _ = pair
    primary = open_engine(primary_cluster.url)
    other = open_engine(primary_cluster.url)
    reads = ReadReplica(primary, other, max_lag=5.0, check_every=0.0)
    reads.check()
    assert reads.engine() is primary
    primary.dispose()
    other.dispose()


def test_a_hub_reads_readings_on_the_replica_decides_on_the_primary_and_erasure_reaches_it(
    pair: tuple[Cluster, Cluster], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    primary_cluster, replica_cluster = pair
    schema = "hub_replica"
    sql(primary_cluster, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    sql(primary_cluster, f"CREATE SCHEMA {schema}")
    options = f"?options=-csearch_path%3D{schema}"
    home = Home(tmp_path / "smart-home", primary_cluster.url + options)
    init_from_template(home, "smart-home")
    settings = Settings(read_database_url=replica_cluster.url + options, read_max_lag=5.0)
    hub = Hub.open(Home(home.root, home.database_url_override, settings))
    try:
        assert hub.reads is not None
        migrate(hub.engine)
        give(hub, ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"))
        assert send(hub, "band-alex", "heart_rate", [58.0, 59.5, 61.0]) == 3
        grant = Grant("wellbeing", ("ServicePersonalisation",), time.time() + 300)
        query = ReadingsQuery("heart_rate", "ServicePersonalisation")

        def read() -> tuple[int, dict[str, int]]:
            result = read_readings(
                hub.engine, hub.keyring, hub.signer, grant, query, stored=hub.read_engine()
            )
            return len(result.readings), dict(result.withheld)

        heart = "SELECT count(*) FROM hub_replica.readings WHERE subject_id = 'alex'"
        _replayed(replica_cluster, heart, [(3,)])
        hub.reads.check()
        assert hub.read_engine() is hub.reads.replica
        assert read() == (3, {})
        # With the replica frozen, a withdrawal still counts at once: the decision is the
        # primary's, whatever the replica still holds.
        sql(replica_cluster, "SELECT pg_wal_replay_pause()")
        try:
            withdraw(
                hub.engine,
                hub.signer,
                ConsentChange("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"),
            )
            count, withheld = read()
            assert count == 0 and sum(withheld.values()) == 1
        finally:
            sql(replica_cluster, "SELECT pg_wal_replay_resume()")
        # Erasure: the key's record and every reading go from the replica too; measured.
        started = time.perf_counter()
        outcome = erase_subject(hub.engine, hub.keyring, hub.signer, "alex")
        done = time.perf_counter() - started
        keys = "SELECT count(*) FROM hub_replica.destroyed_keys WHERE holder = 'alex'"
        held = "SELECT count(*) FROM hub_replica.held_batch_keys WHERE holder = 'alex'"
        after = _replayed(replica_cluster, heart, [(0,)])
        assert sql(replica_cluster, keys) != [(0,)]
        assert sql(replica_cluster, held) == [(0,)]
        assert outcome.readings_purged == 3
        with capsys.disabled():
            print(
                f"\nerasure on the primary took {done * 1000:.1f} ms; the replica showed it "
                f"{after * 1000:.1f} ms after it returned"
            )
    finally:
        hub.close()
        sql(primary_cluster, f"DROP SCHEMA {schema} CASCADE")
