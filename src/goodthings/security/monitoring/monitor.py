"""The hub's monitor: counts what devices do, batch by batch, and acts on what the detectors find.

The ingest path hands `observe` the packs of each committed batch; counting is a few dictionary
updates per pack and nothing per reading. The rate detectors run there, on figures kept in
memory, so a flood is found in the batch that makes it one. Everything slower happens in
`tick`, which a background job calls every few seconds: minute buckets are flushed to the store,
silent devices looked for, profiles reloaded after a manifest change, baselines learned again
and old buckets purged.

A finding becomes a detection (kept with its evidence) and an alert; when the device's profile
says so it also quarantines the device. The same kind of finding about the same device or
address is acted on at most once per `dedupe` seconds, and never about a quarantined device.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, select

from goodthings.core.lifecycle import Lifecycle
from goodthings.core.manifest.schema import Detection, Response
from goodthings.core.store import monitoring
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.core.store.monitoring import MinuteBucket, SignInBucket
from goodthings.security.monitoring import detectors
from goodthings.security.monitoring.baselines import SLOT_MINUTES, Baseline, learn
from goodthings.security.monitoring.detectors import Finding
from goodthings.security.monitoring.profiles import Profile, load_profiles, manifest_version
from goodthings.security.monitoring.quarantine import BrokerGate, quarantine

logger = logging.getLogger(__name__)

_WINDOW = 60.0
"""Seconds of the rate detectors' sliding window."""
_LEARN_EVERY = 300.0
_UNKNOWN_DEVICE = "unknown_device"
_DAY = 86400.0
"""A device past its support period is said once a day: it will not get better by itself."""
_TRIES_KEPT = 1000
"""Failed sign-ins remembered per source address: sign-ins refused while it is locked are
counted too, as fast as an attacker sends them, so the memory of them is bounded."""


@dataclass(frozen=True, slots=True)
class PackSeen:
    """One pack as the monitor sees it: sizes and names, never values."""

    device_id: str
    received_at: float
    size: int
    records: int = 0
    streams: frozenset[str] = frozenset()
    """The stream names its records used (the unknown one, for a pack refused for it)."""
    newest: float | None = None
    """The time of its newest reading."""
    dropped: Mapping[str, int] = field(default_factory=dict)
    refusal: str | None = None
    repeated: bool = False
    """Every reading of it was already stored."""


@dataclass(frozen=True)
class Acted:
    """A finding the monitor acted on: the detection kept, and what it did."""

    finding: Finding
    detection_id: int
    response: Response
    at: datetime


@dataclass
class _Rate:
    """Messages in the last `_WINDOW` seconds, as (time, count) per batch and their sum."""

    events: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def add(self, moment: float, count: int) -> int:
        self.events.append((moment, count))
        self.total += count
        while self.events and self.events[0][0] <= moment - _WINDOW:
            self.total -= self.events.popleft()[1]
        return self.total


@dataclass
class _Seen:
    """One device's part of a batch."""

    messages: int = 0
    largest_pack: int = 0
    streams: set[str] = field(default_factory=set)
    repeated: int = 0
    oldest_offset: float | None = None
    latest: float = 0.0


class Monitor:
    def __init__(
        self,
        engine: Engine,
        signer: Ed25519PrivateKey,
        *,
        brokers: Iterable[BrokerGate] = (),
        notify: Callable[[Acted], None] | None = None,
        dedupe: float = 600.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self.brokers: list[BrokerGate] = list(brokers)
        """The brokers a quarantine cuts the device off (the runtime adds its own)."""
        self.notify = notify
        self._dedupe = dedupe
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, int], MinuteBucket] = {}
        self._sign_ins: dict[tuple[str, int], SignInBucket] = {}
        self._rates: dict[str, _Rate] = {}
        self._failures: dict[str, deque[tuple[float, str]]] = {}
        self._last_seen: dict[str, float] = {}
        self._firmware: dict[str, str] = {}
        self._baselines: dict[str, Baseline] = {}
        self._profiles: dict[str, Profile] = {}
        self._acted: dict[tuple[Detection, str], float] = {}
        self._quarantined: set[str] = set()
        self._manifest = -1
        self._learned_at = 0.0
        self._today = date.min
        self.reload()

    # -- the ingest path ------------------------------------------------------------------------

    def observe(self, packs: Sequence[PackSeen]) -> list[Acted]:
        """Count a committed batch's packs and act on what the rate detectors find."""
        seen: dict[str, _Seen] = {}
        with self._lock:
            buckets = self._buckets
            for pack in packs:
                if pack.refusal == _UNKNOWN_DEVICE:
                    continue  # no device to watch, and a name nobody declared is not kept
                device = pack.device_id
                key = (device, int(pack.received_at // 60))
                bucket = buckets.get(key)
                if bucket is None:
                    bucket = buckets[key] = MinuteBucket(device, key[1])
                bucket.messages += 1
                bucket.bytes += pack.size
                bucket.records += pack.records
                if pack.records > bucket.largest_pack:
                    bucket.largest_pack = pack.records
                if pack.streams:
                    bucket.streams |= pack.streams
                for reason, count in pack.dropped.items():
                    bucket.dropped[reason] = bucket.dropped.get(reason, 0) + count
                if pack.refusal is not None:
                    bucket.refused[pack.refusal] = bucket.refused.get(pack.refusal, 0) + 1
                part = seen.get(device)
                if part is None:
                    part = seen[device] = _Seen()
                part.messages += 1
                part.latest = max(part.latest, pack.received_at)
                part.largest_pack = max(part.largest_pack, pack.records)
                part.streams |= pack.streams
                if pack.newest is not None:
                    offset = pack.received_at - pack.newest
                    if pack.repeated and offset > detectors.REPLAY_AGE:
                        part.repeated += 1
                    _offsets(bucket, offset)
                    if part.oldest_offset is None or offset > part.oldest_offset:
                        part.oldest_offset = offset
            findings = self._rate_findings(seen)
        return self._act(findings)

    def _rate_findings(self, seen: Mapping[str, _Seen]) -> list[Finding]:
        findings: list[Finding] = []
        for device, part in seen.items():
            profile = self._profiles.get(device)
            if profile is None:
                continue  # not a device of the deployment: the pipeline refused it
            self._last_seen[device] = part.latest
            rate = self._rates.get(device)
            if rate is None:
                rate = self._rates[device] = _Rate()
            last_minute = rate.add(part.latest, part.messages)
            if device in self._quarantined:
                continue
            for finding in (
                detectors.flood(
                    device,
                    profile,
                    last_minute=last_minute,
                    largest_pack=part.largest_pack,
                    baseline=self._baselines.get(device),
                ),
                detectors.off_profile(device, profile, frozenset(part.streams)),
                detectors.replay(
                    device, profile, repeated=part.repeated, oldest_offset=part.oldest_offset
                ),
                detectors.past_support(device, profile, self._today),
            ):
                if finding is not None:
                    findings.append(finding)
        return findings

    # -- sign-ins and the broker ---------------------------------------------------------------

    def sign_in_failed(self, source: str, device: str | None) -> list[Acted]:
        """Count a failed sign-in from `source` claiming to be `device` (None: no name given)."""
        now = self._clock()
        with self._lock:
            key = (source, int(now // 60))
            bucket = self._sign_ins.get(key)
            if bucket is None:
                bucket = self._sign_ins[key] = SignInBucket(source, key[1])
            bucket.failures += 1
            if device:
                bucket.devices.add(device)
            tried = self._failures.setdefault(source, deque(maxlen=_TRIES_KEPT))
            tried.append((now, device or ""))
            while tried and tried[0][0] <= now - detectors.STUFFING_WINDOW:
                tried.popleft()
            names = frozenset(name for _, name in tried if name)
            finding = detectors.credential_stuffing(source, names, len(tried))
        return self._act([finding] if finding is not None else [])

    def connected(self, device_id: str) -> None:
        """Count a device's connection to the broker."""
        now = self._clock()
        with self._lock:
            self._bucket(device_id, now).connections += 1

    def denied(self, device_id: str, action: str, topic: str) -> list[Acted]:
        """The broker denied `device_id` a publish or a subscription (`action`) to `topic`.

        Our brokers give each device its own topics only, so a device that is denied one is
        off its profile (a stolen credential probing, or a changed firmware). Names that are
        not a device of the deployment (the hub, the broker's admin) are not counted."""
        now = self._clock()
        with self._lock:
            if device_id not in self._profiles:
                return []
            bucket = self._bucket(device_id, now)
            bucket.denied[action] = bucket.denied.get(action, 0) + 1
            if device_id in self._quarantined:
                return []  # cut off: the broker denies it everything, which says nothing new
            finding = detectors.denied_topic(device_id, action, topic)
        return self._act([finding])

    def birth(self, device_id: str, version: str) -> list[Acted]:
        """A birth message reported `version`: an older one than before is a downgrade."""
        now = self._clock()
        with self._lock:
            self._bucket(device_id, now).firmware = version
            before = self._firmware.get(device_id)
            self._firmware[device_id] = version
            finding = None
            if before is not None and device_id not in self._quarantined:
                finding = detectors.firmware_downgrade(device_id, before, version)
        return self._act([finding] if finding is not None else [])

    # -- the background job --------------------------------------------------------------------

    def tick(self) -> list[Acted]:
        """Flush, reload and look for silent devices; called every few seconds."""
        now = self._clock()
        self.reload()
        self.flush()
        if now - self._learned_at >= _LEARN_EVERY:
            self.learn(now)
            self.purge(now)
        with self._lock:
            # Addresses that stopped failing are forgotten: a spread-out attack must not grow
            # the monitor's memory for ever.
            for source in [
                s
                for s, tried in self._failures.items()
                if not tried or tried[-1][0] <= now - detectors.STUFFING_WINDOW
            ]:
                del self._failures[source]
            findings = [
                finding
                for device, seen in self._last_seen.items()
                if device not in self._quarantined
                and (profile := self._profiles.get(device)) is not None
                and (finding := detectors.silent(device, profile, last_seen=seen, now=now))
            ]
        return self._act(findings)

    def reload(self, *, force: bool = False) -> None:
        """Profiles after a manifest change; quarantines and firmware as the store has them."""
        with self._engine.connect() as connection:
            version = manifest_version(connection)
            changed = force or version != self._manifest
            profiles = load_profiles(connection) if changed else None
            quarantined = set(monitoring.current_quarantines(connection))
            firmware = dict(
                connection.execute(
                    select(ts.firmware_reports.c.device_id, ts.firmware_reports.c.version)
                ).all()
            )
            active = monitoring.last_active(connection) if self._manifest < 0 else {}
        with self._lock:
            self._today = datetime.now(UTC).date()
            if profiles is not None:
                self._profiles, self._manifest = profiles, version
            self._quarantined = quarantined
            for device, version_seen in firmware.items():
                self._firmware.setdefault(device, version_seen)
            for device, minute in active.items():
                self._last_seen.setdefault(device, minute * 60.0 + 59)

    def flush(self) -> None:
        """Write what was counted since the last flush to the store's minute buckets."""
        with self._lock:
            buckets, self._buckets = self._buckets, {}
            sign_ins, self._sign_ins = self._sign_ins, {}
        if not buckets and not sign_ins:
            return
        try:
            with self._engine.begin() as connection:
                monitoring.merge_minutes(connection, list(buckets.values()))
                monitoring.merge_sign_ins(connection, list(sign_ins.values()))
        except Exception:
            with self._lock:  # counted again at the next flush: nothing is lost to a busy store
                for key, bucket in buckets.items():
                    _merge_back(self._buckets, key, bucket)
                self._sign_ins.update(
                    {k: v for k, v in sign_ins.items() if k not in self._sign_ins}
                )
            raise

    def learn(self, now: float | None = None) -> None:
        """Learn every device's baseline again from its stored buckets."""
        now = self._clock() if now is None else now
        now_minute = int(now // 60)
        with self._lock:
            profiles = dict(self._profiles)
        longest = max((int(p.warm_up // 60) for p in profiles.values()), default=0)
        with self._engine.connect() as connection:
            slots, first = monitoring.message_slots(
                connection, since=now_minute - longest - SLOT_MINUTES, slot_minutes=SLOT_MINUTES
            )
        baselines = {}
        for device, profile in profiles.items():
            if device not in first:
                continue
            baseline = learn(
                slots[device],
                first_minute=first[device],
                now_minute=now_minute,
                warm_up_minutes=int(profile.warm_up // 60),
            )
            if baseline is not None:
                baselines[device] = baseline
        with self._lock:
            self._baselines = baselines
            self._learned_at = now

    def purge(self, now: float) -> int:
        """Delete buckets older than the manifest's metrics retention."""
        with self._engine.begin() as connection:
            keep = monitoring.metrics_retention(connection)
            return monitoring.purge_minutes(connection, before=int((now - keep) // 60))

    def close(self) -> None:
        """Write what is still counted and send what alerts are queued (the hub is stopping)."""
        try:
            self.flush()
        except Exception as error:  # a store that is gone must not stop the hub from stopping
            logger.error("could not write the last counts (%s)", type(error).__name__)
        if isinstance(self.notify, Lifecycle):
            self.notify.stop()

    def baseline(self, device_id: str) -> Baseline | None:
        return self._baselines.get(device_id)

    # -- acting --------------------------------------------------------------------------------

    def _act(self, findings: Sequence[Finding]) -> list[Acted]:
        acted = []
        for finding in findings:
            done = self._act_once(finding)
            if done is not None:
                acted.append(done)
        return acted

    def _act_once(self, finding: Finding) -> Acted | None:
        about = finding.device_id or finding.source or ""
        now = self._clock()
        with self._lock:
            last = self._acted.get((finding.kind, about))
            window = _DAY if finding.kind is Detection.past_support else self._dedupe
            if last is not None and now - last < window:
                return None
            if finding.device_id is not None and finding.device_id in self._quarantined:
                return None
            self._acted[(finding.kind, about)] = now
            profile = self._profiles.get(finding.device_id or "")
        response = Response.alert if profile is None else profile.response(finding.kind)
        at = datetime.now(UTC)
        with self._engine.begin() as connection:
            detection = monitoring.record_detection(
                connection,
                {
                    "at": at,
                    "device_id": finding.device_id,
                    "source": finding.source,
                    "kind": finding.kind.value,
                    "severity": finding.severity.value,
                    "action": response.value,
                    "explanation": finding.explanation,
                    "evidence": dict(finding.evidence),
                },
            )
            connection.execute(
                insert(t.alerts).values(
                    created_at=at,
                    device_id=finding.device_id,
                    kind=f"monitor-{finding.kind.value}",
                    severity=finding.severity.value,
                    message=finding.explanation
                    + (" The device was quarantined." if response is Response.quarantine else ""),
                )
            )
        if response is Response.quarantine and finding.device_id is not None:
            quarantine(
                self._engine,
                self._signer,
                finding.device_id,
                reason=detectors.PLAIN_REASONS[finding.kind],
                actor=f"hub:monitor:{finding.kind.value}",
                detection_id=detection,
                brokers=self.brokers,
            )
            with self._lock:
                self._quarantined.add(finding.device_id)
        done = Acted(finding, detection, response, at)
        logger.warning("detection %d (%s): %s", detection, finding.kind.value, finding.explanation)
        if self.notify is not None:
            self.notify(done)
        return done

    def _bucket(self, device_id: str, now: float) -> MinuteBucket:
        key = (device_id, int(now // 60))
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = MinuteBucket(device_id, key[1])
        return bucket


def _offsets(bucket: MinuteBucket, offset: float) -> None:
    if bucket.clock_offset_min is None or offset < bucket.clock_offset_min:
        bucket.clock_offset_min = offset
    if bucket.clock_offset_max is None or offset > bucket.clock_offset_max:
        bucket.clock_offset_max = offset


def _merge_back(
    buckets: dict[tuple[str, int], MinuteBucket], key: tuple[str, int], old: MinuteBucket
) -> None:
    """Put a bucket that could not be flushed back, adding what was counted meanwhile."""
    new = buckets.get(key)
    if new is None:
        buckets[key] = old
        return
    new.messages += old.messages
    new.bytes += old.bytes
    new.records += old.records
    new.largest_pack = max(new.largest_pack, old.largest_pack)
    new.streams |= old.streams
    for reason, count in old.dropped.items():
        new.dropped[reason] = new.dropped.get(reason, 0) + count
    for reason, count in old.refused.items():
        new.refused[reason] = new.refused.get(reason, 0) + count
    for action, count in old.denied.items():
        new.denied[action] = new.denied.get(action, 0) + count
    new.connections += old.connections
    new.firmware = new.firmware or old.firmware
    if old.clock_offset_min is not None:
        _offsets(new, old.clock_offset_min)
    if old.clock_offset_max is not None:
        _offsets(new, old.clock_offset_max)
