"""nats-server for the broker-cluster tests, installed from Debian when a fresh machine lacks
it: a missing tool must never turn a test into a skip."""

from __future__ import annotations

from pathlib import Path

from debian import apt_install
from goodthings.bench.nats_cluster import find_nats_server


def install_nats_server() -> Path:
    found = find_nats_server()
    if found is None:
        apt_install("nats-server")
        found = find_nats_server()
    if found is None:
        raise RuntimeError("`apt-get install nats-server` ran but no nats-server binary is there")
    return found
