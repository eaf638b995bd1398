"""Reads from a PostgreSQL streaming replica, only while it is provably fresh enough.

A read goes to the replica only when everything committed on the primary more than `max_lag`
seconds ago is known to be replayed there; otherwise it goes to the primary. The proof is a
log position: at a check, the time is taken, then the primary's current WAL position; once the
replica's replayed position has reached it, every transaction committed before that time is
visible on the replica (its commit record lies before the position). The replica's staleness
at any later moment is at most `now - fresh_as_of`, so the bound holds between checks too, and
a replica that stops replaying (network cut, replica down) stops serving reads within
`max_lag`, without anyone having to notice. A check is two one-row queries, run at most every
`check_every` seconds and only when a read needs it (from two intervals before the proof runs
out, so that reads stay on a replica that keeps up under writes).

What must never be stale reads the primary whatever this says: consent decisions, erasure,
the ledger; callers ask this for readings to show, nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

_POSITION = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
_REPLAYED = "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() - '0/0'::pg_lsn"


class ReadReplica:
    """Which engine serves a read: the replica while its staleness is within `max_lag`."""

    def __init__(
        self,
        primary: Engine,
        replica: Engine | None,
        max_lag: float = 5.0,
        check_every: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.max_lag = max_lag
        self.check_every = check_every
        self._clock = clock
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque()
        """(when, primary WAL position then), oldest first, since the last proven moment."""
        self._fresh_as_of = -float("inf")
        self._checked = -float("inf")

    def engine(self) -> Engine:
        """The replica when it is fresh within `max_lag`, else the primary."""
        if self.replica is None:
            return self.primary
        # Checked ahead of the bound: under writes, a check proves the position sampled by the
        # check before it, so a proof must be renewed two intervals before it runs out.
        renew = self.max_lag - 2 * self.check_every
        if self.staleness() > renew and self._clock() - self._checked >= self.check_every:
            self.check()
        if self.staleness() <= self.max_lag:
            return self.replica
        return self.primary

    def staleness(self) -> float:
        """Seconds the replica may lag behind the primary, as last proven (infinite: unknown)."""
        return self._clock() - self._fresh_as_of

    def check(self) -> None:
        """Sample the primary's position and the replica's replay; move `fresh_as_of` on."""
        if self.replica is None:
            return
        with self._lock:
            now = self._clock()
            self._checked = now
            try:
                with self.primary.connect() as connection:
                    position = int(connection.execute(text(_POSITION)).scalar_one())
                self._samples.append((now, position))
                with self.replica.connect() as connection:
                    standby, replayed = connection.execute(text(_REPLAYED)).one()
            except SQLAlchemyError as error:
                logger.warning(
                    "the read replica cannot be checked (%s); reads go to the primary",
                    type(error).__name__,
                )
                return
            if not standby or replayed is None:
                logger.warning("the read database is not a standby; reads go to the primary")
                return
            while self._samples and self._samples[0][1] <= int(replayed):
                self._fresh_as_of = max(self._fresh_as_of, self._samples.popleft()[0])
            # A sample older than the bound could only prove a staleness beyond it: forgotten,
            # so a replica that stays behind does not make the list grow.
            while self._samples and self._samples[0][0] < now - self.max_lag:
                self._samples.popleft()
