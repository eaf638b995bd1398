"""What a check answers: a verdict and the evidence it rests on, measured from the live store.

Evidence holds counts, identifiers (devices, streams, requests) and ledger sequence numbers,
never a secret or a personal value, so a report can be shown to anyone who asks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine

EvidenceValue = int | float | str | bool | None | tuple[str, ...] | tuple[int, ...]
Evidence = Mapping[str, EvidenceValue]
"""Named values a verdict rests on: counts, identifiers, ledger sequence numbers."""


class Verdict(StrEnum):
    """A check's answer (the names ETSI TS 103 701 uses for a test's verdict)."""

    passed = "pass"
    failed = "fail"
    not_applicable = "not applicable"
    """Nothing in the deployment is of the kind the check is about."""
    not_assessed = "not assessed"
    """No automatic check exists: a statement or the probe is needed."""


@dataclass(frozen=True)
class Finding:
    """One check's verdict, said in plain language, with the values it was decided on."""

    check: str
    verdict: Verdict
    summary: str
    evidence: Evidence = field(default_factory=dict)
    measured_at: str = ""
    """When the live state was read (ISO 8601, UTC)."""


@dataclass(frozen=True)
class Context:
    """The live deployment a check reads: its store and what it needs to interpret it."""

    engine: Engine
    password_key: bytes
    """Keys the password fingerprints (derived from the master key; never shown)."""
    public_key: Ed25519PublicKey
    now: datetime
    probe: Mapping[str, Any] | None = None
    """The newest report of the auditor's probe (`goodthings probe`), when one was run."""
    public_url: str | None = None
    """The address people reach the hub at (`goodthings deployment set public-url`): what the
    web builds security.txt from, so the check can build the same file."""


Check = Callable[[Context], Finding]
