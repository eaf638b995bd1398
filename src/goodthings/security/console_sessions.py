"""Console sessions: a random id in the cookie, its SHA-256 hash in the store, an expiry.

A session starts at the password step (stage "password") and becomes "signed-in" once a code
is accepted; the id changes then, so an id seen before the second factor opens nothing.

A sign-in link (stage "link", made by `sign_in_link` for the demo) stands in for the name and
password only: opening it once turns it into a password-stage session, and the code is still due.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, delete, insert, select

from goodthings.core.store import tables_console as tc
from goodthings.security.operators import Role

PASSWORD_STAGE = "password"  # noqa: S105 (a stage name, not a password)
SIGNED_IN = "signed-in"
PASSWORD_STAGE_FOR = timedelta(minutes=5)
SIGNED_IN_FOR = timedelta(hours=8)
"""A working day; then the person signs in again."""
LINK_STAGE = "link"
LINK_FOR = timedelta(hours=24)
_LASTS = {SIGNED_IN: SIGNED_IN_FOR, LINK_STAGE: LINK_FOR}


@dataclass(frozen=True)
class ConsoleSession:
    operator: str
    role: Role
    stage: str
    session_id: str

    @property
    def csrf(self) -> str:
        """The token each form of this session carries, derived from its secret id."""
        return hmac.new(
            self.session_id.encode(), b"goodthings-console-csrf:v1", hashlib.sha256
        ).hexdigest()

    def csrf_ok(self, presented: str) -> bool:
        return hmac.compare_digest(self.csrf, presented)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(connection: Connection, operator: str, stage: str) -> str:
    """A new session id for the cookie, valid for its stage's time."""
    session_id = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    lasts = _LASTS.get(stage, PASSWORD_STAGE_FOR)
    connection.execute(
        insert(tc.operator_sessions).values(
            id_hash=_hash(session_id),
            operator=operator,
            stage=stage,
            created_at=now,
            expires_at=now + lasts,
        )
    )
    return session_id


def find(connection: Connection, session_id: str) -> ConsoleSession | None:
    """The live session with this id, or None when unknown, ended or expired."""
    sessions, operators = tc.operator_sessions, tc.operators
    row = connection.execute(
        select(sessions.c.operator, sessions.c.stage, operators.c.role)
        .join(operators, operators.c.name == sessions.c.operator)
        .where(sessions.c.id_hash == _hash(session_id), sessions.c.expires_at > datetime.now(UTC))
    ).first()
    if row is None:
        return None
    return ConsoleSession(row.operator, Role(row.role), row.stage, session_id)


def end(connection: Connection, session_id: str) -> None:
    connection.execute(
        delete(tc.operator_sessions).where(tc.operator_sessions.c.id_hash == _hash(session_id))
    )


def sign_in_link(connection: Connection, operator: str) -> str:
    """The id for a one-time sign-in link (`/console/login/link/<id>`), valid for a day."""
    return start(connection, operator, LINK_STAGE)


def open_link(connection: Connection, link_id: str) -> str | None:
    """Spend a sign-in link: a password-stage session's id in its place, or None when the link
    is unknown, used or expired."""
    found = find(connection, link_id)
    if found is None or found.stage != LINK_STAGE:
        return None
    end(connection, link_id)
    return start(connection, found.operator, PASSWORD_STAGE)
