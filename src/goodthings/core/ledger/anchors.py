"""What verification compares the chain with, besides its own checkpoints: the store's head
row, and records of the ledger kept outside the database (receipts, the witness file).

An operator with full database access can delete the newest entries and checkpoints and move
the head back to match: the database alone then shows no trace. A record of an entry's hash
kept elsewhere, by the person who was given a receipt or on a disk the operator does not
control, turns that rollback into a mismatch `verify` reports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Head:
    """The store's `ledger_head` row: the newest entry it says exists, and its newest checkpoint."""

    seq: int
    hash: str
    checkpoint_seq: int
    key_id: str | None = None
    """The signing key since its last change; None before the first change."""


@dataclass(frozen=True)
class Anchor:
    """An entry's seq and hash as a record outside the database saw them."""

    seq: int
    hash: str
    source: str
    """Where the record comes from, for the report, e.g. ``receipt alex/consent.json``."""
