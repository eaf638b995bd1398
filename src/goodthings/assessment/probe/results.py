"""What the probe found, kept in the deployment so the next assessment can use it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PROBES_DIR = "probes"


@dataclass(frozen=True)
class Finding:
    """One thing wrong at one address: a default login that works, a service in clear, or a
    port open that the device's declared usage does not name."""

    address: str
    port: int
    service: str
    kind: str
    """`default-login`, `cleartext`, or `undeclared-port` (open, but the device's declared usage
    does not name it)."""
    detail: str
    """In words; a login found names the username and says which list, never the password."""


@dataclass(frozen=True)
class ProbeReport:
    started_at: str
    finished_at: str
    authorised_by: str
    targets: tuple[str, ...]
    hosts_probed: int
    services_found: tuple[str, ...]
    """`address:port service` of every open service the probe recognised."""
    attempts: int
    findings: tuple[Finding, ...]
    stopped_early: bool
    """True when the deadline ended the probe before every host was tried."""
    usage_checked: tuple[str, ...] = ()
    """`address: model M (declared TCP ports: …)` of every device whose open ports were
    compared with its declared usage; empty when the probe was told none."""

    def as_document(self) -> dict[str, Any]:
        document = asdict(self)
        document["sha256"] = hashlib.sha256(
            json.dumps(asdict(self), sort_keys=True).encode()
        ).hexdigest()
        return document


def keep_report(root: Path, report: ProbeReport) -> Path:
    """Keep the report beside the deployment's assessments, for `goodthings assess`."""
    directory = root / PROBES_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    stamp = report.finished_at.replace(":", "")
    counter = 1
    while (path := directory / f"{stamp}-{counter:03d}.json").exists():
        counter += 1
    path.write_text(json.dumps(report.as_document(), indent=2) + "\n", encoding="utf-8")
    return path


def latest_probe(root: Path) -> dict[str, Any] | None:
    kept = sorted((root / PROBES_DIR).glob("*.json"))
    if not kept:
        return None
    document = json.loads(kept[-1].read_text(encoding="utf-8"))
    return document if isinstance(document, dict) else None
