"""Real services for the tests: PostgreSQL is found, started, or made throwaway; never skipped."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

DEFAULT_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres connect_timeout=3"


def _reachable(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn) as connection:
            connection.execute("select 1")
    except psycopg.OperationalError:
        return False
    return True


def _start_cluster() -> None:
    """Start the machine's own cluster, as the machine's start-up script would."""
    for conf in Path("/etc/postgresql").glob("*/main"):
        version = conf.parent.name
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _throwaway_server() -> str:
    """initdb a private cluster on a free port (as the postgres user when we are root)."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    initdb = str(binaries[-1]) if binaries else shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(
            "PostgreSQL is needed by the tests: install Debian's `postgresql` package "
            "or set GOODTHINGS_TEST_POSTGRES_DSN"
        )
    bindir = Path(initdb).parent
    data = Path(tempfile.mkdtemp(prefix="goodthings-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "start"],
        check=True,
        capture_output=True,
    )
    dsn = f"host=127.0.0.1 port={port} user=postgres connect_timeout=3"
    with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as connection:
        connection.execute("create database test")
    return dsn + " dbname=test"


def ensure_postgres() -> str:
    """A libpq DSN of a PostgreSQL server that answers, starting one if none does."""
    dsn = os.environ.get("GOODTHINGS_TEST_POSTGRES_DSN", DEFAULT_DSN)
    if _reachable(dsn):
        return dsn
    _start_cluster()
    for _ in range(20):
        if _reachable(dsn):
            return dsn
        time.sleep(0.5)
    return _throwaway_server()
