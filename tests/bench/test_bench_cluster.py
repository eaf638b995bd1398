"""`goodthings bench --cluster` end to end, small: a real three-node NATS cluster, real `serve
--cluster` workers, real PostgreSQL. Checked for shape and for the loss count, never for speed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_helpers import run
from nats_helpers import install_nats_server


@pytest.fixture(scope="module", autouse=True)
def _nats_server_installed() -> None:
    install_nats_server()


@pytest.mark.postgres
def test_bench_cluster_reports_each_worker_count_and_loses_nothing_to_a_killed_node(
    capsys: pytest.CaptureFixture[str], postgres_url: str
) -> None:
    ran = run(
        capsys,
        "bench",
        "--cluster",
        "--readings",
        "1500",
        "--pack-size",
        "50",
        "--database-url",
        postgres_url,
        "--json",
    )
    assert ran.code == 0, ran.err
    report = json.loads(ran.out)
    rates = report["readings_per_s"]
    assert set(rates) == {"1", "2", "3"}
    assert all(rate > 0 for rate in rates.values())
    assert report["stored_checked"] is True
    assert report["kill_acknowledged"] > 0
    assert report["kill_lost"] == 0
    assert report["kill_stored_twice"] == 0
    assert "PostgreSQL" in report["machine"]["database"]


@pytest.mark.parametrize("extra", [(), ("--database-url", "sqlite:///{tmp}/bench.db")])
def test_bench_cluster_needs_a_postgresql_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, extra: tuple[str, ...]
) -> None:
    args = [part.replace("{tmp}", str(tmp_path)) for part in extra]
    ran = run(capsys, "bench", "--cluster", *args)
    assert ran.code == 1
    assert "PostgreSQL" in ran.err and "--database-url" in ran.err
