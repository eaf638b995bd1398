"""Signing in and out as services: the session and its ledger entry in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from goodthings.core.store import tables as t
from goodthings.rights import signin
from goodthings.runtime.hub import Hub

HOUR = timedelta(hours=1)


def _invite(hub: Hub) -> signin.Invite:
    with hub.engine.begin() as connection:
        return signin.issue_invite(connection, "alex", "https://hub.example", HOUR)


def _entries(hub: Hub) -> list[tuple[str, str, dict[str, int]]]:
    e = t.ledger_entries
    with hub.engine.connect() as connection:
        rows = connection.execute(
            select(e.c.action, e.c.actor, e.c.counts).where(e.c.action.like("portal.sign%"))
        )
        return [(row.action, row.actor, dict(row.counts)) for row in rows]


def _subject(hub: Hub, token: str) -> str | None:
    with hub.engine.connect() as connection:
        return signin.session_subject(connection, token)


@pytest.mark.parametrize("by", ["link", "code"])
def test_signing_in_starts_a_session_and_records_how(smart_home: Hub, by: str) -> None:
    made = _invite(smart_home)
    secret = made.link.rpartition("/")[2] if by == "link" else made.code
    subject_id, token = signin.sign_in(
        smart_home.engine, smart_home.signer, valid_for=HOUR, **{by: secret}
    )
    assert subject_id == "alex"
    assert _subject(smart_home, token) == "alex"
    assert _entries(smart_home) == [("portal.sign_in", "subject:alex", {f"by_{by}": 1})]


def test_a_failed_sign_in_records_nothing(smart_home: Hub) -> None:
    with pytest.raises(signin.SignInError):
        signin.sign_in(smart_home.engine, smart_home.signer, code="WRONG-CODE", valid_for=HOUR)
    assert _entries(smart_home) == []


def test_signing_out_ends_that_session_only_and_records_it(smart_home: Hub) -> None:
    first, second = _invite(smart_home), _invite(smart_home)
    _, kept = signin.sign_in(smart_home.engine, smart_home.signer, code=first.code, valid_for=HOUR)
    _, ended = signin.sign_in(
        smart_home.engine, smart_home.signer, code=second.code, valid_for=HOUR
    )
    signin.sign_out(smart_home.engine, smart_home.signer, "alex", ended)
    assert _subject(smart_home, ended) is None
    assert _subject(smart_home, kept) == "alex"
    assert _entries(smart_home)[-1] == ("portal.sign_out", "subject:alex", {})
