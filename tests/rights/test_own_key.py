"""A person's own age key: the recipient of their downloads, and taking their data key."""

from __future__ import annotations

import pyrage
import pytest
from sqlalchemy import select

from goodthings.core.store import tables as t
from goodthings.policy import changes
from goodthings.rights import own_key
from goodthings.rights.export import ExportError
from goodthings.runtime.hub import Hub


def _recipient(hub: Hub) -> str | None:
    with hub.engine.connect() as connection:
        return own_key.recipient_of(connection, "alex")


def _ledger_actions(hub: Hub) -> list[str]:
    with hub.engine.connect() as connection:
        return list(connection.execute(select(t.ledger_entries.c.action)).scalars())


def test_a_registered_recipient_is_kept_replaced_and_cleared(smart_home: Hub) -> None:
    first, second = (str(pyrage.x25519.Identity.generate().to_public()) for _ in range(2))
    assert _recipient(smart_home) is None
    own_key.register_recipient(smart_home.engine, smart_home.signer, "alex", f" {first} ")
    assert _recipient(smart_home) == first
    own_key.register_recipient(smart_home.engine, smart_home.signer, "alex", second)
    assert _recipient(smart_home) == second
    own_key.register_recipient(smart_home.engine, smart_home.signer, "alex", "")
    assert _recipient(smart_home) is None
    assert _ledger_actions(smart_home).count("portal.recipient") == 3


def test_a_key_that_is_not_an_age_key_changes_nothing(smart_home: Hub) -> None:
    good = str(pyrage.x25519.Identity.generate().to_public())
    own_key.register_recipient(smart_home.engine, smart_home.signer, "alex", good)
    with pytest.raises(ExportError, match="is not an age public key"):
        own_key.register_recipient(smart_home.engine, smart_home.signer, "alex", "ssh-ed25519 AAA")
    assert _recipient(smart_home) == good
    assert _ledger_actions(smart_home).count("portal.recipient") == 1


def test_taking_ones_own_key_is_announced_as_a_policy_change(smart_home: Hub) -> None:
    heard: list[bool] = []
    stop = changes.listen(smart_home.engine, lambda: heard.append(True))
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    own_key.take_own_key(
        smart_home.engine, smart_home.keyring, smart_home.signer, "alex", recipient
    )
    stop()
    assert heard == [True]
    assert smart_home.keyring.holds_own_key("alex")
