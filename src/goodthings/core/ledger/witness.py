"""The witness file: every signed checkpoint, appended as one JSON line to a file outside the
database, so that deleting the newest entries together with the head is still caught.

Each line is a checkpoint as the database holds it, with its Ed25519 signature::

    {"hash":"…","key_id":"…","seq":7,"signature":"…","time":"2024-05-01T12:00:00.000000Z"}

A line is written only once the transaction that signed its checkpoint is known to have
committed: when the connection goes back to the pool or starts its next transaction, provided
the commit raised no error. A transaction that rolls back or fails to commit writes nothing,
and a process killed in between leaves a line out, never one too many: a missing line only
weakens the witness, a line for a checkpoint the database never held would be a false alarm.
Lines of concurrent processes may land out of seq order; verification does not mind. The file
is created with mode 0600 and only ever appended to. It is worth little on the same disk as the
database, which the same operator controls: ship it elsewhere as it grows (docs/operations.md).
If the file cannot be written, the hub logs it and goes on: a missing line weakens the
witness, but ingest must not stop for it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import weakref
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.pool import ConnectionPoolEntry

from goodthings.core.errors import LedgerError
from goodthings.core.ledger.chain import Checkpoint

logger = logging.getLogger(__name__)

_PENDING = "goodthings.ledger.witness.pending"
"""Checkpoints signed in the connection's open transaction."""
_COMMITTED = "goodthings.ledger.witness.committed"
"""Checkpoints whose commit was asked for, written once nothing failed."""
_FIELDS = ("seq", "hash", "time", "signature", "key_id")


class Witness:
    """Appends checkpoints to one witness file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, checkpoints: Sequence[Checkpoint]) -> None:
        lines = "".join(_line(checkpoint) for checkpoint in checkpoints).encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, lines)
                os.fsync(fd)
            finally:
                os.close(fd)


def _line(checkpoint: Checkpoint) -> str:
    return json.dumps(asdict(checkpoint), sort_keys=True, separators=(",", ":")) + "\n"


_witnesses: weakref.WeakKeyDictionary[Engine, Witness] = weakref.WeakKeyDictionary()


def attach_witness(engine: Engine, path: Path) -> None:
    """Append every checkpoint signed through `engine` to `path` once its transaction committed."""
    if engine in _witnesses:
        _witnesses[engine].path = path
        return
    witness = _witnesses[engine] = Witness(path)

    def write(info: dict[Any, Any]) -> None:
        committed: list[Checkpoint] = info.pop(_COMMITTED, [])
        if not committed:
            return
        try:
            witness.append(committed)
        except OSError as error:
            logger.error(
                "could not append checkpoint %d to the witness file %s (%s)",
                committed[-1].seq,
                witness.path,
                type(error).__name__,
            )

    def on_commit(connection: Connection) -> None:
        pending = connection.info.pop(_PENDING, None)
        if pending:
            connection.info.setdefault(_COMMITTED, []).extend(pending)

    def on_rollback(connection: Connection) -> None:
        connection.info.pop(_PENDING, None)

    def on_error(context: ExceptionContext) -> None:
        # Only the commit itself can fail between the commit event and the next flush.
        if context.connection is not None:
            context.connection.info.pop(_COMMITTED, None)

    def on_begin(connection: Connection) -> None:
        write(connection.info)

    def on_checkin(_dbapi_connection: object, record: ConnectionPoolEntry) -> None:
        write(record.info)

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "rollback", on_rollback)
    event.listen(engine, "handle_error", on_error)
    event.listen(engine, "begin", on_begin)
    event.listen(engine.pool, "checkin", on_checkin)


def note_checkpoint(connection: Connection, checkpoint: Checkpoint) -> None:
    """Keep a checkpoint just signed for the witness, to be written when `connection` commits."""
    if connection.engine in _witnesses:
        connection.info.setdefault(_PENDING, []).append(checkpoint)


def read_witness(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a witness file, in file order; a malformed line is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LedgerError(f"the witness file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LedgerError(f"cannot read the witness file {path}: {exc}") from None
    checkpoints: list[Checkpoint] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
        except ValueError:
            raise LedgerError(f"{path} line {number}: not a JSON object") from None
        if not isinstance(fields, dict) or set(fields) != set(_FIELDS):
            raise LedgerError(
                f"{path} line {number}: a witness line holds exactly {', '.join(_FIELDS)}"
            )
        if not isinstance(fields["seq"], int) or not all(
            isinstance(fields[name], str) for name in _FIELDS[1:]
        ):
            raise LedgerError(f"{path} line {number}: seq must be a number, the rest text")
        checkpoints.append(Checkpoint(**fields))
    return checkpoints
