"""A PostgreSQL primary of the test's own and a streaming replica of it, each on its own port.

The machine's cluster is left alone: its settings are not ours to change. The primary is made
with initdb (trust on loopback, replication allowed: initdb's own pg_hba has the entries), the
replica with `pg_basebackup -R`, which writes the standby's connection settings; both are
stopped with `pg_ctl stop -m immediate` and their directories removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from services import _free_port

BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass(frozen=True)
class Cluster:
    data: Path
    port: int

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=3"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _pg(*command: str) -> None:
    subprocess.run([*_as_postgres(), *command], check=True, capture_output=True, timeout=120)


def _start(cluster: Cluster) -> None:
    options = f"-p {cluster.port} -k {cluster.data} -c listen_addresses=127.0.0.1"
    # The server's output goes to a log file: on our pipe, it would keep the pipe open.
    log = str(cluster.data.parent / f"{cluster.data.name}.log")
    _pg(str(BIN / "pg_ctl"), "-D", str(cluster.data), "-o", options, "-l", log, "-w", "start")


def stop(cluster: Cluster) -> None:
    """Stop at once, as a crash would (kill -9 of the postmaster's children, no checkpoint)."""
    subprocess.run(
        [*_as_postgres(), str(BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
        check=False,
        capture_output=True,
        timeout=60,
    )


def sql(cluster: Cluster, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(cluster.dsn, autocommit=True) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def primary_and_replica() -> Iterator[tuple[Cluster, Cluster]]:
    """A running primary and a streaming replica of it, torn down afterwards."""
    top = Path(tempfile.mkdtemp(prefix="goodthings-replication-"))
    if os.geteuid() == 0:
        shutil.chown(top, "postgres")
    primary = Cluster(top / "primary", _free_port())
    replica = Cluster(top / "replica", _free_port())
    for directory in (primary.data, replica.data):
        directory.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
    try:
        _pg(str(BIN / "initdb"), "-D", str(primary.data), "-A", "trust", "-U", "postgres")
        _start(primary)
        _pg(
            str(BIN / "pg_basebackup"),
            "-D",
            str(replica.data),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-X",
            "stream",
            "-R",
        )
        _start(replica)
        deadline = time.monotonic() + 60
        while not sql(primary, "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the replica on port {replica.port} never started streaming")
            time.sleep(0.1)
        yield primary, replica
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"{error.cmd[4:]} failed: {error.stderr.decode()[-2000:]}") from None
    finally:
        stop(replica)
        stop(primary)
        shutil.rmtree(top, ignore_errors=True)
