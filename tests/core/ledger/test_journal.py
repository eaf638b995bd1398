"""The ledger in the database: appends chain, checkpoints are signed when due, on both stores."""

from __future__ import annotations

from goodthings.core.ledger import journal as store
from goodthings.core.ledger.verify import verify
from goodthings.runtime.hub import Hub


def test_appends_chain_and_sign_a_checkpoint_every_n_entries(smart_home: Hub) -> None:
    policy = store.CheckpointPolicy(every_entries=3, every_seconds=3600)
    with smart_home.engine.connect() as connection:
        before = len(list(store.entries(connection)))
    for index in range(7):
        with smart_home.engine.begin() as connection:
            store.append(
                connection,
                smart_home.signer,
                actor="test",
                action="ingest",
                target="readings",
                counts={"stored": index},
                digest=f"{index:064x}",
                policy=policy,
            )
    with smart_home.engine.connect() as connection:
        entries = list(store.entries(connection))
        checkpoints = store.checkpoints(connection)
    assert len(entries) == before + 7
    assert [entry.counts for entry in entries[-7:]] == [{"stored": i} for i in range(7)]
    assert len(checkpoints) >= 2  # at least two of the seven appends were due one
    result = verify(entries, checkpoints, smart_home.signer.public_key())
    assert result.ok, result.reason
    assert result.entries == before + 7


def test_signing_the_head_covers_an_unsigned_tail_once(smart_home: Hub) -> None:
    policy = store.CheckpointPolicy(every_entries=100, every_seconds=3600)
    for _ in range(3):
        with smart_home.engine.begin() as connection:
            store.append(
                connection, smart_home.signer, actor="t", action="a", target="x", policy=policy
            )
    with smart_home.engine.connect() as connection:
        assert (
            store.verify(
                store.entries(connection),
                store.checkpoints(connection),
                smart_home.signer.public_key(),
            ).unsigned_tail
            > 0
        )
    signed = store.sign_head(smart_home.engine, smart_home.signer)
    assert signed is not None
    assert store.sign_head(smart_home.engine, smart_home.signer) is None  # nothing new to sign
    result = store.check(smart_home.engine, smart_home.signer.public_key(), max_unsigned_tail=0)
    assert result.ok, result.reason
    assert result.last_checkpoint_seq == signed.seq == result.entries
