"""The ingest pipeline: parse, authorise, gate, protect and store a batch in one transaction.

Batch first: every stage works on the whole batch, one transaction stores it, one ledger entry
records it. Per-reading work is kept to a loop over records with local lookups only.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core import ledger
from goodthings.core.errors import SenMLError
from goodthings.core.keys import Keyring, Sealer, context_at, row_prefix, store_sealed_batch_keys
from goodthings.core.ledger import content_digest
from goodthings.core.store import ReadingRow, insert_readings
from goodthings.ingest import senml
from goodthings.ingest.batch import SENML_CBOR, BatchOutcome, Incoming, PackResult, Refusal
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

MINIMISED = "minimised"
_CHECKPOINTS = ledger.CheckpointPolicy()
STORED = "stored"


@dataclass(frozen=True)
class _Prepared:
    rows: list[ReadingRow]
    result: PackResult


class Pipeline:
    """The hub's one ingest path; HTTP and MQTT both call `ingest`."""

    def __init__(
        self,
        engine: Engine,
        keyring: Keyring,
        signer: Ed25519PrivateKey,
        *,
        refresh_interval: float = 0.05,
        checkpoints: ledger.CheckpointPolicy = _CHECKPOINTS,
        optouts: OptOutGate | None = None,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._signer = signer
        self._refresh_interval = refresh_interval
        self._checkpoints = checkpoints
        self._optouts = optouts
        self._lock = threading.Lock()
        # One writer per process, whichever transport calls: SQLite serialises writers anyway,
        # and waiting here is cheaper than SQLite's sleeping busy handler.
        self._write_lock = threading.Lock()
        self._version: tuple[int, ...] | None = None
        self._checked_at = 0.0
        self._policies: dict[str, DevicePolicy] = {}
        self.refresh(force=True)

    def policies(self) -> Mapping[str, DevicePolicy]:
        return self._policies

    def refresh(self, *, force: bool = False) -> bool:
        """Reload the gate when consents or the manifest changed in any process."""
        with self._lock:
            self._checked_at = time.monotonic()
            with self._engine.connect() as connection:
                if self._optouts is not None:
                    self._optouts.refresh(connection)
                current = inputs.version(connection)
                if current == self._version and not force:
                    return False
                facts = inputs.read_inputs(connection)
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
            self._policies = policies
            self._version = current
            return changed

    def ingest(self, batch: Sequence[Incoming]) -> BatchOutcome:
        with self._write_lock:
            return self._ingest(batch)

    def _ingest(self, batch: Sequence[Incoming]) -> BatchOutcome:
        if time.monotonic() - self._checked_at >= self._refresh_interval:
            self.refresh()
        policies = self._policies
        results: list[PackResult] = []
        rows: list[ReadingRow] = []
        parts: list[bytes] = []
        totals: Counter[str] = Counter()
        sealers: dict[str, Sealer] = {}
        for item in batch:
            prepared = self._prepare(item, policies.get(item.device_id), sealers)
            results.append(prepared.result)
            if prepared.result.refusal is None:
                rows.extend(prepared.rows)
                parts.append(item.device_id.encode())
                parts.append(item.payload)
                totals["received"] += prepared.result.received
                totals[STORED] += prepared.result.stored
                totals[MINIMISED] += prepared.result.minimised
                totals.update({f"dropped.{k}": v for k, v in prepared.result.dropped.items()})
        if not parts:
            return BatchOutcome(tuple(results), None)
        devices = sorted({item.device_id for item in batch})
        with self._engine.begin() as connection:
            inserted = insert_readings(connection, rows)
            store_sealed_batch_keys(connection, sealers)
            duplicates = len(rows) - inserted
            if duplicates:
                totals[STORED] -= duplicates
                totals[f"dropped.{Reason.duplicate.value}"] += duplicates
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
        if duplicates and len(results) == 1:
            results = [_with_duplicates(results[0], duplicates)]
        return BatchOutcome(tuple(results), entry.seq)

    def _prepare(
        self, item: Incoming, policy: DevicePolicy | None, sealers: dict[str, Sealer]
    ) -> _Prepared:
        if policy is None:
            return _refused(
                Refusal.unknown_device, f"there is no device {item.device_id!r} in this deployment"
            )
        try:
            if item.content_type == SENML_CBOR:
                records = senml.parse_cbor(item.payload, now=item.received_at)
            else:
                records = senml.parse_json(item.payload, now=item.received_at)
        except SenMLError as exc:
            return _refused(Refusal.malformed, str(exc))
        streams = policy.streams
        for index, record in enumerate(records):
            if record.name not in streams:
                local = _without_device_prefix(record.name, item.device_id)
                if local in streams:
                    records[index] = replace(record, name=local)
                    continue
                known = ", ".join(sorted(streams)) or "none"
                return _refused(
                    Refusal.unknown_stream,
                    f"record {index}: device {item.device_id!r} has no stream {record.name!r}; "
                    f"its streams are: {known}",
                )
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
        for name, group in _by_stream(records).items():
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
        return _Prepared(rows, result)


def _without_device_prefix(name: str, device_id: str) -> str:
    """`kitchen-1:temperature` → `temperature`: many devices put their own id in `bn`."""
    for separator in (":", "/", "."):
        prefix = f"{device_id}{separator}"
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _refused(refusal: Refusal, message: str) -> _Prepared:
    return _Prepared([], PackResult(refusal=refusal, error=message))


def _with_duplicates(result: PackResult, duplicates: int) -> PackResult:
    dropped = dict(result.dropped)
    dropped[Reason.duplicate.value] = dropped.get(Reason.duplicate.value, 0) + duplicates
    return replace(result, stored=result.stored - duplicates, dropped=dropped)


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
    for moment, value in points:
        if isinstance(value, float):
            append((device_id, stream_id, None, moment, value, None, None))
        else:
            append((device_id, stream_id, None, moment, None, _as_text(value), None))
    return rows


def _sealed_rows(
    device_id: str,
    stream_id: int,
    holder: str,
    points: list[Point],
    sealer: Sealer,
) -> list[ReadingRow]:
    rows: list[ReadingRow] = []
    append = rows.append
    seal = sealer.seal
    prefix = row_prefix(device_id, stream_id)
    for moment, value in points:
        if value is None:
            continue
        sealed = seal(value, context_at(prefix, moment))
        append((device_id, stream_id, holder, moment, None, None, sealed))
    return rows


def _as_text(value: float | str | bool | bytes | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.hex() if isinstance(value, bytes) else repr(value)
