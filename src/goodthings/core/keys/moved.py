"""Bringing what older versions kept only in the database into the key vault and its journal.

Until this version the wrapped keys were rows of `data_keys`, so every database backup held
them. Opening a deployment moves each row to its file and deletes the row (SQLite with
secure_delete, so the freed page is zeroed); a key the erasure journal lists as destroyed is
not moved but dropped. Backups taken before the move still hold the wrapped keys:
docs/operations.md says what that means and what to do about it.

Erasures made by an older version left only a `destroyed_keys` row; a hub that opens copies
each into the erasure journal, so that a database backup from before such an erasure, restored
later, has the erasure re-applied and its copy of the key dropped.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, delete, select, text

from goodthings.core.keys.datakeys import Keyring
from goodthings.core.keys.vault import Erased, KeyVault
from goodthings.core.store import tables as t


def move_keys_out(engine: Engine, vault: KeyVault) -> int:
    """Put every wrapped key still in the database into the vault; returns how many moved."""
    with engine.begin() as connection:
        rows = connection.execute(select(t.data_keys.c.holder, t.data_keys.c.wrapped)).all()
        if not rows:
            return 0
        if connection.dialect.name == "sqlite":
            connection.execute(text("PRAGMA secure_delete=ON"))
        for holder, wrapped in rows:
            # An erased person's key, in a database restored from before the erasure, stays
            # erased. Otherwise the file first: a crash before the delete leaves both, and
            # the next open finds the file already there and only deletes the row.
            if not vault.was_erased(bytes(wrapped)):
                vault.create(holder, bytes(wrapped))
        connection.execute(delete(t.data_keys))
    return len(rows)


def journal_older_erasures(connection: Connection, keyring: Keyring) -> int:
    """Journal every destroyed key the store knows and the journal does not; returns how many."""
    journaled = {erased.fingerprint for erased in keyring.vault.erased()}
    rows = connection.execute(
        select(
            t.destroyed_keys.c.holder,
            t.destroyed_keys.c.fingerprint,
            t.destroyed_keys.c.destroyed_at,
        ).order_by(t.destroyed_keys.c.id)
    ).all()
    added = 0
    for holder, key, at in rows:
        if key not in journaled:
            keyring.vault.record(Erased(at, keyring.tag(holder), key))
            journaled.add(key)
            added += 1
    return added
