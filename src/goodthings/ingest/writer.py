"""The process's one writer: every pack waiting, from any transport, in one transaction.

Group commit, as databases do with their logs: a commit and a ledger entry cost about the same
for one pack as for fifty, so the writer takes whatever is waiting (HTTP requests, the MQTT
bridge's batches) into one call of the pipeline: one transaction, one ledger entry. Under load
the hub commits less often and more at a time; when idle, a pack waits at most `max_wait`.

The rules:

* A group closes at `Grouping.max_packs` packs or `Grouping.max_wait` seconds after its first
  pack, whichever comes first. A submission is never split: a batch that would not fit waits
  for the next group, and one larger than `max_packs` goes alone.
* Each submitter is settled, from the writer's thread, with the results of its own packs after
  the commit: the pipeline refuses a bad pack alone, so one device's poison is its own answer.
* When the group fails (the store is down or locked), every submitter is settled with the
  error: nothing of the group was stored, and each sender sends again.
* `stop` drains: what was submitted before it is committed and settled; a submission after it
  raises `WriterClosed`.

Two threads share the work, so that the store's time is not the hub's: one gathers a group and
prepares it (`Pipeline.prepare`: parse, gate, seal), the other stores the group before it
(`Pipeline.store`). SQLite and PostgreSQL let go of the GIL while they write, and the next
group is prepared meanwhile (MQTT ingest about an eighth faster). The preparing thread hands a
group over only when the store's thread is free, so at most one group is stored and one waits
prepared; the rest stays queued and joins the next group.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from goodthings.core.lifecycle import Lifecycle
from goodthings.ingest.batch import BatchOutcome, Incoming
from goodthings.ingest.pipeline import Pipeline, Staged
from goodthings.policy import DevicePolicy

logger = logging.getLogger(__name__)

Settle = Callable[[BatchOutcome | Exception], None]
"""Called once, on the writer's thread, with a submission's outcome or the group's error."""


class WriterClosed(RuntimeError):
    """The writer is stopping or stopped: the pack was not taken, and may be sent again."""


@dataclass(frozen=True, slots=True)
class Grouping:
    """How many packs, and how long, a group may gather before it is committed."""

    max_packs: int = 500
    max_wait: float = 0.002
    """Seconds a group waits for more packs once its first one arrived."""

    def __post_init__(self) -> None:
        if self.max_packs < 1 or self.max_wait < 0:
            raise ValueError("max_packs must be at least 1 and max_wait at least 0")


@dataclass(frozen=True, slots=True)
class WriterStats:
    """Counters since start, for tests, benchmarks and the hub's /metrics.

    The readings' counts are summed once per group from the packs' results, so that counting
    costs the hot path a few additions per pack, never work per reading.
    """

    submitted: int = 0
    """Submissions taken (each is one HTTP request's pack, or one MQTT batch)."""
    groups: int = 0
    """Groups the pipeline committed (or refused whole, when every pack was refused)."""
    packs: int = 0
    """Packs in those groups."""
    largest: int = 0
    """The most packs one group held."""
    failed_groups: int = 0
    """Groups whose ingest raised: every submitter got the error."""
    waiting: int = 0
    """Submissions queued now, not yet taken into a group."""
    pending_packs: int = 0
    """Packs submitted and not yet stored or refused: waiting, or in the group being stored."""
    readings: int = 0
    """Readings in the packs the pipeline accepted."""
    stored: int = 0
    """Rows those packs wrote (one per reading, or one per aggregated window)."""
    minimised: int = 0
    """Readings kept at less detail than sent."""
    dropped: Mapping[str, int] = field(default_factory=dict)
    """Readings the gate did not store, by reason (`policy.decisions.Reason`)."""
    refused: Mapping[str, int] = field(default_factory=dict)
    """Packs refused whole, by `Refusal`."""


@dataclass(frozen=True, slots=True)
class _Submission:
    packs: Sequence[Incoming]
    settle: Settle


class GroupWriter(Lifecycle):
    """Stores what every transport submits, a group at a time (prepared by one thread, stored
    by another).

    It is an `Ingestor` too: `ingest` submits a batch and blocks until its group is committed,
    so the MQTT bridge can write through it unchanged.
    """

    def __init__(self, ingestor: Pipeline, grouping: Grouping | None = None) -> None:
        self._ingestor = ingestor
        self._grouping = grouping or Grouping()
        self._queue: queue.SimpleQueue[_Submission | None] = queue.SimpleQueue()
        """Submissions in arrival order; None, put by `stop`, ends them."""
        self._lock = threading.Lock()
        self._open = False
        self._threads: tuple[threading.Thread, ...] = ()
        """The writer's two threads: one gathers and prepares groups, the other stores them."""
        self._staged: queue.Queue[tuple[list[_Submission], Staged | Exception] | None] = (
            queue.Queue(maxsize=1)
        )
        """A prepared group on its way to the store's thread; None ends that thread."""
        self._held: _Submission | None = None
        """Taken from the queue but too large for the group then gathering: first in the next."""
        self._submitted = 0
        self._pending_packs = 0
        """Packs submitted and not yet settled: queued, held, or in the group being stored."""
        self._done = WriterStats()
        """What the writer's thread counted; `submitted` and `waiting` are added when asked."""
        self._dropped: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()

    # Lifecycle

    def start(self) -> None:
        with self._lock:
            if self._threads:
                raise RuntimeError("the writer is already running")
            self._open = True
            self._threads = (
                threading.Thread(
                    target=self._prepare_groups, name="goodthings-writer", daemon=True
                ),
                threading.Thread(target=self._store_groups, name="goodthings-store", daemon=True),
            )
            for thread in self._threads:
                thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Take nothing new; commit and settle what was submitted; then end the threads."""
        with self._lock:
            threads, self._threads = self._threads, ()
            if self._open:
                self._open = False
                self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise RuntimeError(f"the ingest writer did not finish within {timeout} s")

    @property
    def accepting(self) -> bool:
        """Whether `submit` takes packs: from `start` until `stop` begins."""
        return self._open

    # What transports call

    def submit(self, packs: Sequence[Incoming], settle: Settle) -> None:
        """Queue `packs` for the next group; `settle` is called with their outcome."""
        with self._lock:
            if not self._open:
                raise WriterClosed("the hub is shutting down and takes no more packs")
            self._queue.put(_Submission(packs, settle))
            self._submitted += 1
            self._pending_packs += len(packs)

    def ingest(self, batch: Sequence[Incoming]) -> BatchOutcome:
        """Submit `batch` and wait until its group is committed; raise the group's error."""
        done = threading.Event()
        settled: list[BatchOutcome | Exception] = []

        def settle(outcome: BatchOutcome | Exception) -> None:
            settled.append(outcome)
            done.set()

        self.submit(batch, settle)
        done.wait()
        outcome = settled[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def refresh(self) -> bool:
        return self._ingestor.refresh()

    def policies(self) -> Mapping[str, DevicePolicy]:
        return self._ingestor.policies()

    def stats(self) -> WriterStats:
        with self._lock:
            return replace(
                self._done,
                submitted=self._submitted,
                pending_packs=self._pending_packs,
                waiting=self._queue.qsize(),
                dropped=dict(self._dropped),
                refused=dict(self._refused),
            )

    # The writer's thread

    def _prepare_groups(self) -> None:
        """Gather and prepare groups; hand each to the store's thread once it is free."""
        try:
            while self._prepare_next():
                pass
        finally:
            self._staged.put(None)

    def _prepare_next(self) -> bool:
        """One group gathered, prepared and handed over; False once the writer was stopped.

        One call per group, so that nothing of a group stays referenced from this thread while
        it waits for the next (a burst's last group is tens of MiB)."""
        group, last = self._gather()
        if group:
            self._staged.put((group, self._prepare(group)))
            # Until the store's thread took it: one group stored, one prepared, no more.
            self._staged.join()
        return not last

    def _prepare(self, group: list[_Submission]) -> Staged | Exception:
        try:
            return self._ingestor.prepare(
                [pack for submission in group for pack in submission.packs]
            )
        except Exception as error:
            return error

    def _store_groups(self) -> None:
        while self._store_next():
            pass

    def _store_next(self) -> bool:
        """Store the next prepared group; False at the end (one call each, as `_prepare_next`)."""
        taken = self._staged.get()
        self._staged.task_done()
        if taken is None:
            return False
        self._commit(*taken)
        return True

    def _gather(self) -> tuple[list[_Submission], bool]:
        """The next group, and whether the writer was stopped after it."""
        first = self._held or self._queue.get()
        self._held = None
        if first is None:
            return [], True
        group, count = [first], len(first.packs)
        max_packs = self._grouping.max_packs
        deadline = time.monotonic() + self._grouping.max_wait
        while count < max_packs:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is None:
                return group, True
            if count + len(item.packs) > max_packs:
                self._held = item
                break
            group.append(item)
            count += len(item.packs)
        return group, False

    def _commit(self, group: list[_Submission], staged: Staged | Exception) -> None:
        packs = [pack for submission in group for pack in submission.packs]
        try:
            if isinstance(staged, Exception):
                raise staged
            outcome = self._ingestor.store(staged)
        except Exception as error:
            # Only the type: database errors can quote the values, and readings are personal.
            logger.error(
                "storing a group of %d packs from %d senders failed (%s); nothing of it was "
                "stored, and every sender is told to send again",
                len(packs),
                len(group),
                type(error).__name__,
            )
            self._count(failed_groups=1, settled=len(packs))
            for submission in group:
                _settle(submission, error)
            return
        self._tally(outcome)
        self._count(groups=1, packs=len(packs), largest=len(packs), settled=len(packs))
        start = 0
        for submission in group:
            results = outcome.results[start : start + len(submission.packs)]
            start += len(submission.packs)
            entries = [result.ledger_seq for result in results if result.ledger_seq is not None]
            _settle(submission, BatchOutcome(results, max(entries, default=None)))

    def _count(
        self,
        *,
        groups: int = 0,
        packs: int = 0,
        largest: int = 0,
        failed_groups: int = 0,
        settled: int = 0,
    ) -> None:
        with self._lock:
            self._pending_packs -= settled
            stats = self._done
            self._done = replace(
                stats,
                groups=stats.groups + groups,
                packs=stats.packs + packs,
                largest=max(stats.largest, largest),
                failed_groups=stats.failed_groups + failed_groups,
            )

    def _tally(self, outcome: BatchOutcome) -> None:
        """Add a committed group's readings to the totals: per pack, in one lock."""
        readings = stored = minimised = 0
        dropped: Counter[str] = Counter()
        refused: Counter[str] = Counter()
        for result in outcome.results:
            if result.refusal is not None:
                refused[result.refusal.value] += 1
                continue
            readings += result.received
            stored += result.stored
            minimised += result.minimised
            if result.dropped:
                dropped.update(result.dropped)
        with self._lock:
            stats = self._done
            self._done = replace(
                stats,
                readings=stats.readings + readings,
                stored=stats.stored + stored,
                minimised=stats.minimised + minimised,
            )
            self._dropped.update(dropped)
            self._refused.update(refused)


def _settle(submission: _Submission, outcome: BatchOutcome | Exception) -> None:
    """A submitter that cannot be told (its event loop is gone) must not stop the writer."""
    try:
        submission.settle(outcome)
    except Exception as error:
        logger.warning("a sender could not be told its outcome (%s)", type(error).__name__)
