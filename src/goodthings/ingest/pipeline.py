"""The ingest pipeline: parse, authorise, gate, protect and store a batch in one transaction.

Batch first: every stage works on the whole batch, one transaction stores it, one ledger entry
records it. Per-reading work is kept to a loop over records with local lookups only.

A quarantined device's packs are refused before they are parsed; every batch's packs are then
handed to the monitor (`security.monitoring`) as sizes and names, after the commit.

Nothing one pack holds stops the others: a pack that cannot be parsed or prepared, whatever the
reason, is refused alone; when the store refuses the batch for what a pack holds (a value the
database cannot take), the packs are stored one by one and only the ones it still refuses are
refused. The store's own faults (locked, unreachable) fail the whole batch, so that MQTT does
not acknowledge it and the broker delivers it again. Every refused pack is recorded, without its
payload (`core.store.refused`), in the batch's transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from goodthings.core import ledger
from goodthings.core.errors import SenMLError
from goodthings.core.keys import Keyring, Sealer, row_prefix, store_sealed_batch_keys
from goodthings.core.ledger import content_digest
from goodthings.core.store import ReadingRow, declared, insert_packs, monitoring, record_refused
from goodthings.core.store.monitoring import Quarantine
from goodthings.core.store.write_turn import write_turn
from goodthings.ingest import senml
from goodthings.ingest.batch import BatchOutcome, Incoming, PackResult, Refusal
from goodthings.ingest.isolation import caused_by_data, refusals
from goodthings.ingest.units import in_stream_unit
from goodthings.policy import (
    DevicePolicy,
    Level,
    OptOutGate,
    Reason,
    StreamDecision,
    decide_all,
    inputs,
)
from goodthings.policy.minimise import Point, minimise
from goodthings.security.monitoring import PackSeen

logger = logging.getLogger(__name__)

MINIMISED = "minimised"
_CHECKPOINTS = ledger.CheckpointPolicy()
STORED = "stored"


@dataclass(frozen=True)
class _Prepared:
    rows: list[ReadingRow]
    result: PackResult
    recorded: str | None = None
    """For a refused pack, the message to record when the device's quotes what it sent."""
    streams: frozenset[str] = frozenset()
    newest: float | None = None

    @property
    def accepted(self) -> bool:
        return self.result.refusal is None


@dataclass(frozen=True)
class Staged:
    """A batch prepared (`Pipeline.prepare`) and not yet stored: its rows sealed, its refusals
    decided, the batch keys its rows are sealed under."""

    batch: Sequence[Incoming]
    prepared: Sequence[_Prepared]
    sealers: dict[str, Sealer]


class Pipeline:
    """The hub's one ingest path; HTTP and MQTT reach it through the hub's writer
    (`ingest.writer`), which hands it every pack waiting as one batch."""

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        signer: Ed25519PrivateKey,
        *,
        refresh_interval: float = 0.05,
        checkpoints: ledger.CheckpointPolicy = _CHECKPOINTS,
        optouts: OptOutGate | None = None,
        refused_kept: int = 10_000,
        observer: Callable[[Sequence[PackSeen]], object] | None = None,
    ) -> None:
        self._engine = engine
        self.follows: list[Callable[[Connection], object]] = []
        """Handed the refresh's connection each time it looks at the store (the hub's device
        token memory follows the credentials' version there, as the gate follows consent)."""
        self._refused_kept = refused_kept
        self._keyring = keyring
        self._signer = signer
        self._refresh_interval = refresh_interval
        self._checkpoints = checkpoints
        self._optouts = optouts
        self._lock = threading.Lock()
        # One batch at a time in this process, for callers other than the writer (the CLI, a
        # second writer): SQLite serialises writers anyway, and waiting here is cheaper than
        # SQLite's sleeping busy handler. Preparing has a lock of its own, so that one batch is
        # prepared while another is stored.
        self._write_lock = threading.Lock()
        self._prepare_lock = threading.Lock()
        self._turn = write_turn(engine)
        self._version: tuple[int, ...] | None = None
        self._checked_at = 0.0
        self._changes_told = 0
        """Changes this pipeline was told of (`changed_elsewhere`); `_changes_applied` of them
        are in the gate. A batch never starts with a gate older than what it was told."""
        self._changes_applied = 0
        self.reloaded_at = 0.0
        """Unix time the gate last reloaded for a changed store (its /metrics)."""
        self._policies: dict[str, DevicePolicy] = {}
        self._units: dict[int, str | None] = {}
        self._clock_skew = 0.0
        self._quarantined: dict[str, Quarantine] = {}
        self._quarantine_version = -1
        self.observer = observer
        """Handed every batch's packs after the commit (the hub's monitor)."""
        self.on_quarantined: Callable[[set[str]], None] | None = None
        """Told, at the refresh that first sees them, of devices newly quarantined by any
        process (the embedded broker then closes their connections)."""
        self.refresh(force=True)

    def policies(self) -> Mapping[str, DevicePolicy]:
        return self._policies

    def quarantined(self, device_id: str) -> bool:
        """Whether the device was quarantined, as of the last refresh."""
        return device_id in self._quarantined

    def changed_elsewhere(self) -> None:
        """The store says the gate's inputs changed (a wake-up): the next batch reloads the
        gate before it decides, whoever reloads it first."""
        self._changes_told += 1

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the gate when consents or the manifest changed in any process."""
        with self._lock:
            told = self._changes_told
            self._checked_at = time.monotonic()
            with self._engine.connect() as connection:
                if self._optouts is not None:
                    self._optouts.refresh(connection)
                for follow in self.follows:
                    follow(connection)
                quarantines = monitoring.quarantine_version(connection)
                if quarantines != self._quarantine_version:
                    before = self._quarantined
                    self._quarantined = monitoring.current_quarantines(connection)
                    self._quarantine_version = quarantines
                    newly = set(self._quarantined) - set(before)
                    if newly and self.on_quarantined is not None:
                        self.on_quarantined(newly)
                current = inputs.version(connection)
                if current == self._version and not force:
                    self._changes_applied = told
                    return False
                facts = inputs.read_inputs(connection)
                skew = declared.clock_skew(connection)
            policies = decide_all(facts.devices, facts.rules, facts.choices)
            holders = {
                decision.holder
                for policy in policies.values()
                for decision in policy.streams.values()
                if decision.holder is not None and decision.collect
            }
            with self._engine.begin() as connection:
                self._keyring.load_held(connection)
                self._keyring.load(connection, sorted(holders), create=True)
            changed = policies != self._policies
            self._units = {
                rule.stream_id: rule.unit for rules in facts.rules.values() for rule in rules
            }
            # No manifest applied yet means no device to accept readings from.
            self._clock_skew = 0.0 if skew is None else skew
            self._policies = policies
            self._version = current
            self.reloaded_at = time.time()
            self._changes_applied = told
            return changed

    @property
    def consents_seen(self) -> int:
        """The newest consent record the gate decides with (0 before any)."""
        return self._version[0] if self._version else 0

    def ingest(self, batch: Sequence[Incoming]) -> BatchOutcome:
        return self.store(self.prepare(batch))

    def prepare(self, batch: Sequence[Incoming]) -> Staged:
        """The first half of `ingest`: parse, authorise, gate and seal, writing nothing. The hub's
        writer prepares the next group while the store takes the one before (`store`)."""
        with self._prepare_lock:
            if (
                self._changes_applied != self._changes_told
                or time.monotonic() - self._checked_at >= self._refresh_interval
            ):
                self.refresh()
            policies = self._policies
            sealers: dict[str, Sealer] = {}
            prepared = [
                self._prepare_alone(item, policies.get(item.device_id), sealers) for item in batch
            ]
            return Staged(batch, prepared, sealers)

    def store(self, staged: Staged) -> BatchOutcome:
        """The second half of `ingest`: one transaction, one ledger entry, then the monitor."""
        with self._write_lock:
            with self._turn():
                outcome = self._commit(staged)
            if self.observer is not None:
                self._observe(_seen(staged.batch, staged.prepared, outcome.results))
            return outcome

    def _observe(self, seen: Sequence[PackSeen]) -> None:
        """Tell the monitor; its failure is logged, never the batch's: the batch is committed,
        and failing it now would make MQTT deliver it again."""
        assert self.observer is not None
        try:
            self.observer(seen)
        except Exception as error:
            logger.error("the monitor failed on a batch (%s)", type(error).__name__)

    def _commit(self, staged: Staged) -> BatchOutcome:
        batch, prepared, sealers = staged.batch, staged.prepared, staged.sealers
        accepted = [(item, p) for item, p in zip(batch, prepared, strict=True) if p.accepted]
        if not accepted:
            self._record_refusals(batch, prepared)
            return BatchOutcome(tuple(p.result for p in prepared), None)
        devices = sorted({item.device_id for item in batch})
        try:
            with self._engine.begin() as connection:
                entry, duplicates = self._store(connection, accepted, devices, sealers)
                record_refused(connection, refusals(batch, prepared), keep=self._refused_kept)
        except Exception as error:
            if not caused_by_data(error):
                raise  # the store's own fault: nothing is committed, and MQTT redelivers
            return self._store_one_by_one(batch, prepared, sealers, error)
        found = iter(duplicates)
        results = [
            _stored_as(p.result, next(found), entry.seq) if p.accepted else p.result
            for p in prepared
        ]
        return BatchOutcome(tuple(results), entry.seq)

    def _store(
        self,
        connection: Connection,
        accepted: Sequence[tuple[Incoming, _Prepared]],
        devices: Sequence[str],
        sealers: Mapping[str, Sealer],
    ) -> tuple[ledger.Entry, list[int]]:
        """Insert the accepted packs' rows and their ledger entry; returns it and each pack's
        duplicates (counted per pack, so that each sender learns of its own)."""
        parts: list[bytes] = []
        totals: Counter[str] = Counter()
        new = insert_packs(connection, [prepared.rows for _, prepared in accepted])
        duplicates = [len(p.rows) - n for (_, p), n in zip(accepted, new, strict=True)]
        for item, prepared in accepted:
            result = prepared.result
            parts.append(item.device_id.encode())
            parts.append(item.payload)
            totals["received"] += result.received
            totals[STORED] += result.stored
            totals[MINIMISED] += result.minimised
            totals.update({f"dropped.{k}": v for k, v in result.dropped.items()})
        store_sealed_batch_keys(connection, sealers)
        duplicated = sum(duplicates)
        if duplicated:
            totals[STORED] -= duplicated
            totals[f"dropped.{Reason.duplicate.value}"] += duplicated
        entry = ledger.append(
            connection,
            self._signer,
            actor=f"device:{devices[0]}" if len(devices) == 1 else "hub:ingest",
            action="ingest",
            target=f"devices:{','.join(devices)}" if len(devices) > 1 else "readings",
            counts={key: value for key, value in totals.items() if value},
            digest=content_digest(parts),
            policy=self._checkpoints,
        )
        return entry, duplicates

    def _store_one_by_one(
        self,
        batch: Sequence[Incoming],
        prepared: Sequence[_Prepared],
        sealers: Mapping[str, Sealer],
        error: Exception,
    ) -> BatchOutcome:
        """The store refused the batch for what a pack holds: store each accepted pack in its
        own transaction, and refuse the ones it still refuses. Rare, so slow is fine here."""
        logger.warning(
            "the store refused a batch of %d packs (%s); storing them one by one",
            len(batch),
            type(error).__name__,
        )
        settled = list(prepared)
        keys = sealers  # the batch's sealed keys are stored once, with the first pack stored
        seq = None
        for index, (item, pack) in enumerate(zip(batch, prepared, strict=True)):
            if not pack.accepted:
                continue
            try:
                with self._engine.begin() as connection:
                    entry, duplicates = self._store(
                        connection, [(item, pack)], [item.device_id], keys
                    )
            except Exception as alone:
                if not caused_by_data(alone):
                    raise
                logger.error(
                    "the store refused a pack from %r (%s); refused alone",
                    item.device_id,
                    type(alone).__name__,
                )
                settled[index] = _refused(
                    Refusal.unprocessable,
                    f"the store could not take what this pack holds ({type(alone).__name__}); "
                    "nothing of it was stored",
                )
                continue
            keys, seq = {}, entry.seq
            settled[index] = replace(pack, result=_stored_as(pack.result, duplicates[0], seq))
        self._record_refusals(batch, settled)
        return BatchOutcome(tuple(p.result for p in settled), seq)

    def _record_refusals(self, batch: Sequence[Incoming], prepared: Sequence[_Prepared]) -> None:
        """Record a batch's refused packs in a small transaction of their own."""
        refused = refusals(batch, prepared)
        if refused:
            with self._engine.begin() as connection:
                record_refused(connection, refused, keep=self._refused_kept)

    def _prepare_alone(
        self, item: Incoming, policy: DevicePolicy | None, sealers: dict[str, Sealer]
    ) -> _Prepared:
        """Prepare one pack; anything unforeseen refuses that pack and no other."""
        try:
            return self._prepare(item, policy, sealers)
        except SQLAlchemyError:
            raise  # the store's fault, not the pack's: the whole batch fails
        except Exception as error:
            # Only the type: an error's text can quote the values, and readings are personal.
            logger.error(
                "a pack from %r could not be prepared (%s); refused alone",
                item.device_id,
                type(error).__name__,
            )
            return _refused(
                Refusal.unprocessable,
                f"the hub failed on this pack ({type(error).__name__}); nothing of it was "
                "stored, and the hub's log has the error",
            )

    def _prepare(
        self, item: Incoming, policy: DevicePolicy | None, sealers: dict[str, Sealer]
    ) -> _Prepared:
        if policy is None:
            return _refused(
                Refusal.unknown_device, f"there is no device {item.device_id!r} in this deployment"
            )
        held = self._quarantined.get(item.device_id)
        if held is not None:
            return _refused(Refusal.quarantined, _quarantined_message(held))
        try:
            records = _parse(item, self._clock_skew)
        except SenMLError as exc:
            return _refused(
                Refusal.malformed, str(exc), recorded=_value_free_error(item, self._clock_skew)
            )
        streams = policy.streams
        units = self._units
        for index, record in enumerate(records):
            name = record.name
            if name not in streams:
                name = senml.stream_name(name, item.device_id, policy.senml_name)
                if name not in streams:
                    known = ", ".join(sorted(streams)) or "none"
                    refused = _refused(
                        Refusal.unknown_stream,
                        f"record {record.index}: device {item.device_id!r} has no stream "
                        f"{record.name!r}; its streams are: {known}",
                    )
                    return replace(refused, streams=frozenset((name,)))
                record = records[index] = replace(record, name=name)
            if record.unit is not None:
                unit = units.get(streams[name].stream_id)
                if unit is not None and record.unit != unit:
                    try:
                        records[index] = in_stream_unit(record, name, unit)
                    except SenMLError as exc:
                        return _refused(Refusal.malformed, str(exc))
        return self._apply(item.device_id, records, streams, sealers)

    def _apply(
        self,
        device_id: str,
        records: list[senml.Record],
        streams: Mapping[str, StreamDecision],
        sealers: dict[str, Sealer],
    ) -> _Prepared:
        rows: list[ReadingRow] = []
        dropped: Counter[str] = Counter()
        minimised = 0
        groups = _by_stream(records)
        for name, group in groups.items():
            decision = streams[name]
            if not decision.collect:
                dropped[(decision.reason or Reason.no_consent).value] += len(group)
                continue
            if self._optouts is not None:
                group, opted_out = self._optouts.keep(decision.stream_id, group)
                if opted_out:
                    dropped[Reason.opted_out.value] += opted_out
                if not group:
                    continue
            values = _points(group)
            if decision.level != Level.exact:
                kept = minimise(
                    values,
                    decision.level,
                    step=decision.coarse_step,
                    window=decision.aggregate_seconds,
                )
                minimised += len(group)
                withheld = len(group) - sum(count for _, _, count in kept)
                if withheld:
                    dropped[Reason.unminimisable.value] += withheld
                values = [(moment, value) for moment, value, _ in kept]
            if decision.holder is None:
                rows.extend(_plain_rows(device_id, decision.stream_id, values))
            else:
                sealer = sealers.get(decision.holder)
                if sealer is None:
                    sealer = sealers[decision.holder] = self._keyring.sealer(decision.holder)
                rows.extend(
                    _sealed_rows(device_id, decision.stream_id, decision.holder, values, sealer)
                )
        result = PackResult(
            received=len(records), stored=len(rows), minimised=minimised, dropped=dict(dropped)
        )
        newest = max(record.time for record in records) if records else None
        return _Prepared(rows, result, streams=frozenset(groups), newest=newest)


def _seen(
    batch: Sequence[Incoming], prepared: Sequence[_Prepared], results: Sequence[PackResult]
) -> list[PackSeen]:
    """What the monitor is told of a batch: per pack, sizes, names and what became of it."""
    duplicate = Reason.duplicate.value
    return [
        PackSeen(
            item.device_id,
            item.received_at,
            len(item.payload),
            records=result.received,
            streams=pack.streams,
            newest=pack.newest,
            dropped=result.dropped,
            refusal=None if result.refusal is None else result.refusal.value,
            repeated=result.stored == 0 and result.dropped.get(duplicate, 0) > 0,
        )
        for item, pack, result in zip(batch, prepared, results, strict=True)
    ]


def _quarantined_message(held: Quarantine) -> str:
    return (
        f"this device was quarantined on {held.at:%Y-%m-%d at %H:%M} UTC ({held.reason}); "
        "nothing it sends is kept until the operator releases it"
    )


def _parse(item: Incoming, clock_skew: float) -> list[senml.Record]:
    """The pack's records, refused (SenMLError) when malformed or dated outside the window."""
    records = senml.parse(item.payload, item.content_type, now=item.received_at)
    senml.check_times(records, received_at=item.received_at, clock_skew=clock_skew)
    return records


def _value_free_error(item: Incoming, clock_skew: float) -> str:
    """The refusal's message again, quoting nothing the pack holds: for the record kept of it."""
    with senml.without_values():
        try:
            _parse(item, clock_skew)
        except SenMLError as exc:
            return str(exc)
    return "the pack is not valid SenML"  # the same pack parsed twice: not reached


def _refused(refusal: Refusal, message: str, *, recorded: str | None = None) -> _Prepared:
    return _Prepared([], PackResult(refusal=refusal, error=message), recorded)


def _stored_as(result: PackResult, duplicates: int, ledger_seq: int) -> PackResult:
    """An accepted pack's result once stored: its duplicates counted, its ledger entry named."""
    if not duplicates:
        return replace(result, ledger_seq=ledger_seq)
    dropped = dict(result.dropped)
    dropped[Reason.duplicate.value] = dropped.get(Reason.duplicate.value, 0) + duplicates
    return replace(
        result, stored=result.stored - duplicates, dropped=dropped, ledger_seq=ledger_seq
    )


def _by_stream(records: list[senml.Record]) -> dict[str, list[senml.Record]]:
    groups: dict[str, list[senml.Record]] = {}
    for record in records:
        group = groups.get(record.name)
        if group is None:
            groups[record.name] = [record]
        else:
            group.append(record)
    return groups


def _points(records: list[senml.Record]) -> list[Point]:
    """(time, value) of each record; a record that carries only a sum has the sum as its value."""
    return [
        (record.time, record.sum if record.value is None else record.value) for record in records
    ]


def _plain_rows(device_id: str, stream_id: int, points: list[Point]) -> list[ReadingRow]:
    rows: list[ReadingRow] = []
    append = rows.append
    ordinals: dict[float, int] = {}
    for moment, value in points:
        # The ordinal: how many readings of this pack's stream came before at this moment.
        ordinal = ordinals.get(moment, 0)
        ordinals[moment] = ordinal + 1
        if isinstance(value, float):
            append((device_id, stream_id, None, moment, ordinal, value, None, None))
        else:
            append((device_id, stream_id, None, moment, ordinal, None, _as_text(value), None))
    return rows


def _sealed_rows(
    device_id: str,
    stream_id: int,
    holder: str,
    points: list[Point],
    sealer: Sealer,
) -> list[ReadingRow]:
    kept = [(moment, value) for moment, value in points if value is not None]
    sealed = sealer.seal_stream(row_prefix(device_id, stream_id), kept)
    rows: list[ReadingRow] = []
    append = rows.append
    ordinals: dict[float, int] = {}
    for (moment, _), value in zip(kept, sealed, strict=True):
        # The ordinal is not in the associated data: readings of one stream at one moment are
        # interchangeable, and rows sealed before the ordinal existed open as they always did.
        ordinal = ordinals.get(moment, 0)
        ordinals[moment] = ordinal + 1
        append((device_id, stream_id, holder, moment, ordinal, None, None, value))
    return rows


def _as_text(value: float | str | bool | bytes | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.hex() if isinstance(value, bytes) else repr(value)
