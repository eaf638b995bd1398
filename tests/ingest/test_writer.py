"""Group commit: the hub's one writer stores every pack waiting in one transaction and one
ledger entry, settles each sender with its own result, and drains when stopped."""

from __future__ import annotations

import gc
import json
import threading
import time
import weakref
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from tests.held import held_writes, outside, wait_until

from goodthings.core import ledger
from goodthings.core.config import Home, Settings
from goodthings.core.errors import DeploymentError
from goodthings.core.store import tables as t
from goodthings.ingest import BatchOutcome, Grouping, GroupWriter, Incoming, Refusal, WriterClosed
from goodthings.ingest.pipeline import Staged
from goodthings.runtime import Hub
from templates import init_from_template

NOW = 1_790_000_000.0


def pack(value: float, moment: float = NOW) -> bytes:
    return json.dumps([{"bt": moment, "n": "temperature", "u": "Cel", "v": value}]).encode()


class Sender:
    """One submission and what it was told."""

    def __init__(self, writer: GroupWriter, packs: Sequence[Incoming]) -> None:
        self.outcome: BatchOutcome | Exception | None = None
        self._done = threading.Event()
        writer.submit(packs, self._settle)

    def _settle(self, outcome: BatchOutcome | Exception) -> None:
        self.outcome = outcome
        self._done.set()

    def told(self) -> BatchOutcome | Exception:
        assert self._done.wait(30), "the writer never settled this sender"
        assert self.outcome is not None
        return self.outcome

    def result(self) -> BatchOutcome:
        outcome = self.told()
        assert isinstance(outcome, BatchOutcome), outcome
        return outcome


def incoming(payload: bytes, device: str = "thermostat-1") -> Incoming:
    return Incoming(device, payload, time.time())


def ledger_entries(hub: Hub) -> int:
    with hub.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(t.ledger_entries)).scalar_one()
        )


def stored(hub: Hub) -> int:
    with hub.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.readings)).scalar_one())


def test_packs_waiting_together_share_one_transaction_and_each_sender_gets_its_own_result(
    smart_home: Hub,
) -> None:
    smart_home.writer.ingest([incoming(pack(0.0, NOW - 60))])  # keys and gate ready
    before = ledger_entries(smart_home)
    with held_writes(smart_home.engine):
        senders = [Sender(smart_home.writer, [incoming(pack(float(i), NOW + i))]) for i in range(8)]
        senders.append(Sender(smart_home.writer, [incoming(b'[{"n": "temperature", "v": tru')]))
        senders.append(Sender(smart_home.writer, [incoming(pack(9.0), device="toaster")]))
    outcomes = [sender.result() for sender in senders]
    # The group held in the database, and at most one more behind it: 10 senders, ≤ 2 entries.
    assert ledger_entries(smart_home) - before <= 2
    good = [outcome.results[0] for outcome in outcomes[:8]]
    assert [(r.refusal, r.stored) for r in good] == [(None, 1)] * 8
    assert all(outcome.ledger_seq is not None for outcome in outcomes[:8])
    assert outcomes[8].results[0].refusal is Refusal.malformed
    assert outcomes[9].results[0].refusal is Refusal.unknown_device
    assert outcomes[8].ledger_seq is None and outcomes[9].ledger_seq is None
    assert stored(smart_home) == 1 + 8
    stats = smart_home.writer.stats()
    assert stats.largest >= 5 and stats.failed_groups == 0


def test_senders_stored_one_by_one_are_each_told_their_own_ledger_entry(
    store_refuses_nul: Hub,
) -> None:
    hub = store_refuses_nul
    hub.writer.ingest([incoming(pack(0.0, NOW - 60))])
    nul = json.dumps([{"bt": NOW + 5, "n": "temperature", "vs": "a\u0000b"}]).encode()
    payloads = [pack(1.0, NOW + 1), nul, pack(2.0, NOW + 2)]
    with held_writes(hub.engine):
        senders = [Sender(hub.writer, [incoming(payload)]) for payload in payloads]
    first, refused, third = (sender.result() for sender in senders)
    assert refused.results[0].refusal is Refusal.unprocessable and refused.ledger_seq is None
    assert first.ledger_seq is not None and third.ledger_seq is not None
    assert first.ledger_seq != third.ledger_seq
    with hub.engine.connect() as connection:
        by_seq = {entry.seq: entry for entry in ledger.entries(connection)}
    assert by_seq[first.ledger_seq].digest == ledger.content_digest([b"thermostat-1", payloads[0]])
    assert by_seq[third.ledger_seq].digest == ledger.content_digest([b"thermostat-1", payloads[2]])


def test_a_pack_sent_twice_in_one_group_is_a_duplicate_for_the_second_sender_only(
    smart_home: Hub,
) -> None:
    smart_home.writer.ingest([incoming(pack(0.0, NOW - 60))])
    with held_writes(smart_home.engine):
        first = Sender(smart_home.writer, [incoming(pack(20.0))])
        again = Sender(smart_home.writer, [incoming(pack(20.0))])
        other = Sender(smart_home.writer, [incoming(pack(21.0, NOW + 1))])
    assert (first.result().results[0].stored, first.result().results[0].dropped) == (1, {})
    assert (again.result().results[0].stored, again.result().results[0].dropped) == (
        0,
        {"duplicate": 1},
    )
    assert other.result().results[0].stored == 1


def test_a_batch_keeps_its_results_in_order_among_other_senders(smart_home: Hub) -> None:
    """An MQTT batch and HTTP packs in one group: each gets back exactly its own packs."""
    smart_home.writer.ingest([incoming(pack(0.0, NOW - 60))])
    with held_writes(smart_home.engine):
        alone = Sender(smart_home.writer, [incoming(pack(1.0))])
        batch = Sender(
            smart_home.writer,
            [incoming(pack(2.0, NOW + 1)), incoming(b"{}"), incoming(pack(3.0, NOW + 2))],
        )
    assert [r.refusal for r in batch.result().results] == [None, Refusal.malformed, None]
    assert len(alone.result().results) == 1


def test_a_group_never_exceeds_its_count_and_a_batch_is_never_split(smart_home: Hub) -> None:
    writer = GroupWriter(smart_home.pipeline, Grouping(max_packs=3, max_wait=0.0))
    with writer:
        with held_writes(smart_home.engine):
            senders = [
                Sender(writer, [incoming(pack(float(i), NOW + 10 * i + j)) for j in range(2)])
                for i in range(4)
            ]
        assert all([r.stored for r in sender.result().results] == [1, 1] for sender in senders)
        stats = writer.stats()
    assert (stats.groups, stats.packs, stats.largest) == (4, 8, 2)


def test_when_the_store_fails_every_sender_of_the_group_gets_the_error_and_nothing_is_stored(
    smart_home: Hub,
) -> None:
    smart_home.writer.ingest([incoming(pack(0.0, NOW - 60))])
    with held_writes(smart_home.engine) as store:
        store.execute("ALTER TABLE ledger_entries RENAME TO ledger_entries_away")
        senders = [Sender(smart_home.writer, [incoming(pack(float(i), NOW + i))]) for i in range(5)]
    try:
        assert all(isinstance(sender.told(), Exception) for sender in senders)
        assert stored(smart_home) == 1
        assert smart_home.writer.stats().failed_groups >= 1
    finally:
        with outside(smart_home.engine) as store:
            store.execute("ALTER TABLE ledger_entries_away RENAME TO ledger_entries")
    # The store is back: the same packs, sent again, are stored.
    again = [Sender(smart_home.writer, [incoming(pack(float(i), NOW + i))]) for i in range(5)]
    assert [sender.result().results[0].stored for sender in again] == [1] * 5


def test_stop_stores_what_was_submitted_and_refuses_what_comes_after(smart_home: Hub) -> None:
    writer = GroupWriter(smart_home.pipeline)
    writer.start()
    with held_writes(smart_home.engine):
        senders = [Sender(writer, [incoming(pack(float(i), NOW + i))]) for i in range(6)]
        stopping = threading.Thread(target=writer.stop)
        stopping.start()
        wait_until(lambda: not writer.accepting, "the writer to begin stopping")
        with pytest.raises(WriterClosed):
            Sender(writer, [incoming(pack(99.0))])
        assert stopping.is_alive()  # it cannot have drained: the store is still held
    stopping.join(30)
    assert not stopping.is_alive()
    assert [sender.result().results[0].stored for sender in senders] == [1] * 6
    assert stored(smart_home) == 6


def test_the_mqtt_way_in_blocks_until_committed_and_raises_the_groups_error(
    smart_home: Hub,
) -> None:
    outcome = smart_home.writer.ingest([incoming(pack(1.0)), incoming(pack(2.0, NOW + 1))])
    assert [r.stored for r in outcome.results] == [1, 1] and outcome.ledger_seq is not None
    assert stored(smart_home) == 2
    with held_writes(smart_home.engine) as store:
        store.execute("ALTER TABLE ledger_entries RENAME TO ledger_entries_away")
    try:
        with pytest.raises(Exception) as raised:
            smart_home.writer.ingest([incoming(pack(3.0, NOW + 2))])
        assert not isinstance(raised.value, WriterClosed)
    finally:
        with outside(smart_home.engine) as store:
            store.execute("ALTER TABLE ledger_entries_away RENAME TO ledger_entries")


@pytest.mark.parametrize(("packs", "wait"), [(0, 0.002), (500, -1.0)])
def test_group_settings_out_of_range_are_refused_by_name(
    home: Home, packs: int, wait: float
) -> None:
    init_from_template(home, "smart-home")
    settings = Settings(ingest_group_packs=packs, ingest_group_wait=wait)
    with pytest.raises(DeploymentError, match="GOODTHINGS_INGEST_GROUP_PACKS"):
        Hub.open(Home(home.root, settings=settings))


def test_packs_waiting_on_a_held_store_are_pending_until_settled(smart_home: Hub) -> None:
    smart_home.writer.ingest([incoming(pack(0.0, NOW - 60))])
    assert smart_home.writer.stats().pending_packs == 0
    with held_writes(smart_home.engine):
        first = Sender(smart_home.writer, [incoming(pack(1.0, NOW + 1))])
        batch = Sender(
            smart_home.writer, [incoming(pack(float(i), NOW + 10 + i)) for i in range(3)]
        )
        assert smart_home.writer.stats().pending_packs == 4  # queued or in the held group
    first.result(), batch.result()
    stats = smart_home.writer.stats()
    assert (stats.pending_packs, stats.readings, stats.stored) == (0, 5, 5)
    assert stats.refused == {} and stats.dropped == {}


def test_refusals_and_drops_are_counted_by_reason(smart_home: Hub) -> None:
    smart_home.writer.ingest(
        [
            incoming(b'[{"n": "temperature", "v": tru'),
            incoming(pack(9.0), device="toaster"),
            incoming(b'[{"n": "open", "vb": true}]', device="front-door"),
        ]
    )
    stats = smart_home.writer.stats()
    assert stats.refused == {"malformed": 1, "unknown_device": 1}
    assert stats.dropped == {"no_consent": 1}
    assert (stats.readings, stats.stored, stats.pending_packs) == (1, 0, 0)


def test_the_next_group_is_prepared_while_one_is_stored_and_no_third_is_taken(
    smart_home: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stages: while the store takes a group (held here), the next is parsed, gated and
    sealed, and waits; what comes after stays queued, so a stalled store holds at most two
    groups' worth of prepared packs, and every sender is still told after its commit."""
    prepared: list[int] = []
    prepare = smart_home.pipeline.prepare

    def counted(batch: Sequence[Incoming]) -> Staged:
        prepared.append(len(batch))
        return prepare(batch)

    monkeypatch.setattr(smart_home.pipeline, "prepare", counted)
    writer = GroupWriter(smart_home.pipeline, Grouping(max_packs=2, max_wait=0.0))
    with writer:
        writer.ingest([incoming(pack(0.0, NOW - 60))])
        with held_writes(smart_home.engine):
            first = Sender(writer, [incoming(pack(1.0, NOW + 1)), incoming(pack(2.0, NOW + 2))])
            wait_until(lambda: len(prepared) == 2, "the first group to reach the store")
            second = Sender(writer, [incoming(pack(3.0, NOW + 3)), incoming(pack(4.0, NOW + 4))])
            wait_until(lambda: len(prepared) == 3, "the second group to be prepared")
            third = Sender(writer, [incoming(pack(5.0, NOW + 5))])
            time.sleep(0.3)
            assert len(prepared) == 3, "a third group was taken while the store was held"
            assert first.outcome is None and second.outcome is None, "told before the commit"
            assert writer.stats().waiting == 1
        outcomes = [sender.result() for sender in (first, second, third)]
    assert [[r.stored for r in o.results] for o in outcomes] == [[1, 1], [1, 1], [1]]
    assert prepared == [1, 2, 2, 1]
    assert stored(smart_home) == 6


def test_nothing_of_a_stored_group_stays_alive_in_an_idle_writer(
    smart_home: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst's last group (up to 500 packs, tens of MiB once prepared) must not stay
    referenced from the writer's threads while they wait for the next: an argon2id check then
    comes on top of it, and a worker's peak memory with it."""
    kept: list[weakref.ref[Staged]] = []
    prepare = smart_home.pipeline.prepare

    def remembered(batch: Sequence[Incoming]) -> Staged:
        staged = prepare(batch)
        kept.append(weakref.ref(staged))
        return staged

    monkeypatch.setattr(smart_home.pipeline, "prepare", remembered)
    outcome = smart_home.writer.ingest([incoming(pack(float(i), NOW + i)) for i in range(50)])
    assert sum(r.stored for r in outcome.results) == 50
    del outcome
    assert len(kept) == 1

    def let_go() -> bool:
        gc.collect()
        return kept[0]() is None

    wait_until(let_go, "the writer to let go of the last group", timeout=5)
