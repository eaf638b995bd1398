"""`goodthings bench`: measure the hub on this machine instead of guessing.

Every figure comes from a real run on a throwaway deployment: a raw insert ceiling, the full
ingest path over HTTP against a `goodthings serve` subprocess and over MQTT through a private
Mosquitto with one and two workers, the delay until a withdrawn consent stops collection, and
peak memory. Figures are measured and reported, never asserted:
what counts as fast enough depends on the deployment, and a number that was guessed or faked
would mislead the people sizing a hub.
"""

from __future__ import annotations

from goodthings.bench.cluster import ClusterOptions, ClusterReport, run_cluster_bench
from goodthings.bench.load import BenchError
from goodthings.bench.runner import BenchOptions, BenchReport, run_bench

__all__ = [
    "BenchError",
    "BenchOptions",
    "BenchReport",
    "ClusterOptions",
    "ClusterReport",
    "run_bench",
    "run_cluster_bench",
]
