"""Abuse monitoring: behaviour counted per batch, profiles and baselines, detectors,
quarantine, alerts, and Prometheus figures (issue 13; the guide is docs/monitoring.md).

The ingest path calls `Monitor.observe` with each committed batch's packs; the runtime calls
`Monitor.tick` in the background and wires sign-ins, births and the brokers to it. Nothing here
imports ingest: the pipeline depends on `PackSeen`, not the other way round.
"""

from goodthings.security.monitoring.alerts import AlertMailer, Throttle
from goodthings.security.monitoring.baselines import Baseline, learn
from goodthings.security.monitoring.collector import MonitorCollector, build_collector
from goodthings.security.monitoring.detectors import PLAIN_REASONS, Finding, Severity
from goodthings.security.monitoring.monitor import Acted, Monitor, PackSeen
from goodthings.security.monitoring.profiles import Profile, load_profiles, profile_of
from goodthings.security.monitoring.quarantine import (
    BrokerGate,
    QuarantineError,
    quarantine,
    release,
)

__all__ = [
    "PLAIN_REASONS",
    "Acted",
    "AlertMailer",
    "Baseline",
    "BrokerGate",
    "Finding",
    "Monitor",
    "MonitorCollector",
    "PackSeen",
    "Profile",
    "QuarantineError",
    "Severity",
    "Throttle",
    "build_collector",
    "learn",
    "load_profiles",
    "profile_of",
    "quarantine",
    "release",
]
