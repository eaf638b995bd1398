"""An assessment made on the record: at a signed ledger position, signed, in the ledger, kept.

The ledger's head is signed first, so the report can cite a checkpoint that vouches for every
entry before it; the report is then signed, recorded in the ledger by its digest (so a report
shown later can be matched to the moment it was made) and kept in the deployment's
`assessments/` directory, where the next assessment finds it to say what changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.assessment.assess import Assessment
from goodthings.assessment.label import Label, label_of
from goodthings.assessment.report import (
    LedgerPosition,
    build_report,
    report_digest,
    sign_report,
)
from goodthings.assessment.signatures import signature_problems
from goodthings.core import ledger
from goodthings.core.config import KEYS_DIR

ASSESSMENTS_DIR = "assessments"


@dataclass(frozen=True)
class Recorded:
    """A signed report, where it is kept, and the ledger entry recording it."""

    signed: dict[str, Any]
    path: Path
    ledger_seq: int


def record_assessment(
    assessment: Assessment,
    *,
    engine: Engine,
    signer: Ed25519PrivateKey,
    root: Path,
    deployment: str,
    actor: str,
) -> Recorded:
    """Sign the ledger's head, build and sign the report citing it, record it, keep it."""
    position = _signed_position(engine, signer)
    previous = latest_report(root)
    report = build_report(assessment, deployment=deployment, ledger=position, previous=previous)
    signed = sign_report(report, signer)
    summary = report["summary"]
    with engine.begin() as connection:
        entry = ledger.append(
            connection,
            signer,
            actor=actor,
            action="assessment.report",
            target="deployment",
            counts={key.replace(" ", "_"): value for key, value in summary.items() if value},
            digest=report_digest(report),
        )
    path = _keep(root, signed)
    return Recorded(signed, path, entry.seq)


def latest_report(root: Path) -> Mapping[str, Any] | None:
    """The newest report kept for this deployment, or None before the first."""
    signed = latest_signed(root)
    report = None if signed is None else signed.get("report")
    return report if isinstance(report, dict) else None


def latest_signed(root: Path) -> dict[str, Any] | None:
    """The newest signed report kept, as it was written."""
    kept = _latest_kept(root)
    if kept is None:
        return None
    document = json.loads(kept)
    return document if isinstance(document, dict) else None


def _latest_kept(root: Path) -> bytes | None:
    """The bytes of the newest report file kept, or None before the first."""
    kept = sorted((root / ASSESSMENTS_DIR).glob("*.json"))
    return kept[-1].read_bytes() if kept else None


@dataclass(frozen=True)
class LabelStanding:
    """The label the latest kept report earns, or why none is shown, in plain words."""

    label: Label | None
    why_not: str = ""
    """Said where the label would be when there is none (empty when there is one)."""
    verified: bool = True
    """False when the report's signature does not hold: nothing in it can be shown as its."""
    below_baseline: bool = False
    """True when the report holds but fails even security level 1 (the PSTI baseline): what
    to look at first is then the PSTI controls."""


def label_standing(root: Path, now: datetime | None = None) -> LabelStanding:
    """The label of the latest kept report, only while its signature verifies with one of the
    deployment's signing keys, it is fresh and it earns one. A report is a file anyone with
    write access to the deployment could edit, so the label is never read from one whose
    signature does not hold: a failure turned into a pass would otherwise earn a level."""
    kept = _latest_kept(root)
    if kept is None:
        return LabelStanding(None, "this deployment has not been assessed yet")
    problems = signature_problems(kept, root / KEYS_DIR)
    if problems:
        why = problems[0].replace("the report", "the latest report", 1)
        return LabelStanding(None, why, verified=False)
    label = label_of(json.loads(kept)["report"])
    if label.shown_at(now or datetime.now(UTC)):
        return LabelStanding(label)
    if label.security_level:
        return LabelStanding(None, f"the latest assessment expired on {label.valid_until:%d %B %Y}")
    return LabelStanding(
        None, "the latest assessment does not meet security level 1", below_baseline=True
    )


def current_label(root: Path, now: datetime | None = None) -> Label | None:
    """What the notices, the signs and the badge show (`label_standing`), so none of them shows
    a label the others do not."""
    return label_standing(root, now).label


def _signed_position(engine: Engine, signer: Ed25519PrivateKey) -> LedgerPosition | None:
    ledger.sign_head(engine, signer)
    with engine.connect() as connection:
        checkpoints = ledger.checkpoints(connection)
    if not checkpoints:
        return None  # an empty ledger: nothing to cite yet
    newest = checkpoints[-1]
    return LedgerPosition(
        seq=newest.seq,
        hash=newest.hash,
        time=newest.time,
        signature=newest.signature,
        key_id=newest.key_id,
    )


def _keep(root: Path, signed: Mapping[str, Any]) -> Path:
    directory = root / ASSESSMENTS_DIR
    directory.mkdir(mode=0o700, exist_ok=True)
    stamp = str(signed["report"]["measured_at"]).replace(":", "")
    counter = 1
    while (path := directory / f"{stamp}-{counter:03d}.json").exists():  # same second
        counter += 1
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(signed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    partial.replace(path)
    return path
