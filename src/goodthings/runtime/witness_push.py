"""Pushing each signed checkpoint to the HTTP witness (`GOODTHINGS_WITNESS_URL`).

A background job of `goodthings serve`, once a second: it reads the checkpoints committed since
the newest one the witness holds and POSTs them in order. Reading committed rows, rather than
hooking the commit, keeps ingest out of it entirely: a witness that is slow, down or refusing
delays nothing but its own copy, and a push that failed is simply tried again at the next turn.
Every worker pushes; the witness takes a checkpoint it already holds as a retry. Changes of the
signing key are pushed before the checkpoints, as the witness needs them to check those. When the
witness refuses one as a rollback or fork, the pusher asks it again what it holds: a worker
behind another causes that too, so a real rollback is reported only when the witness holds a
checkpoint the database does not (the witness's newest, or its hash, is unknown here).
"""

from __future__ import annotations

import logging
from dataclasses import asdict

import httpx2
from sqlalchemy import Engine, select

from goodthings.core import ledger
from goodthings.core.store import tables as t

logger = logging.getLogger(__name__)

_BATCH = 500


class WitnessPusher:
    """Pushes the checkpoints the witness at `url` does not hold yet, oldest first."""

    def __init__(self, engine: Engine, url: str, client: httpx2.Client) -> None:
        self._engine = engine
        self._url = url.rstrip("/") + "/witness/checkpoints"
        self._keys_url = url.rstrip("/") + "/witness/keys"
        self._client = client
        self._newest: int | None = None
        self._changes_sent = 0

    def run(self) -> int:
        """Push what is due; returns how many checkpoints the witness took."""
        if self._newest is None:
            self._newest = self._ask()
        c = t.ledger_checkpoints.c
        with self._engine.connect() as connection:
            due = [
                ledger.Checkpoint(**row)
                for row in connection.execute(
                    select(t.ledger_checkpoints)
                    .where(c.seq > self._newest)
                    .order_by(c.seq)
                    .limit(_BATCH)
                ).mappings()
            ]
        with self._engine.connect() as connection:
            changes = ledger.key_changes(connection)
        # Key changes first: the witness checks each checkpoint with the key of its seq.
        for change in changes[self._changes_sent :]:
            self._client.post(self._keys_url, json=asdict(change)).raise_for_status()
            self._changes_sent += 1
        taken = 0
        for checkpoint in due:
            answer = self._client.post(self._url, json=asdict(checkpoint))
            if answer.status_code == 409:
                self._newest = None  # ask again next turn; see the module docstring
                return taken
            answer.raise_for_status()
            self._newest = checkpoint.seq
            taken += 1
        return taken

    def _ask(self) -> int:
        answer = self._client.get(self._url)
        answer.raise_for_status()
        held = [ledger.Checkpoint(**fields) for fields in answer.json()]
        if not held:
            return 0
        newest = max(held, key=lambda checkpoint: checkpoint.seq)
        with self._engine.connect() as connection:
            ours = connection.execute(
                select(t.ledger_checkpoints.c.hash).where(t.ledger_checkpoints.c.seq == newest.seq)
            ).scalar_one_or_none()
        if ours != newest.hash:
            logger.error(
                "the witness holds a checkpoint at entry %d that this ledger does not: the "
                "ledger was rolled back or rewritten (goodthings ledger verify --witness-url)",
                newest.seq,
            )
        return newest.seq
