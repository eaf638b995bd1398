"""People's sign-in without an account: one-time links and codes the operator issues, and
sessions (a right's front door, below the portal, so that erasure can end a person's sessions).

A link carries 256 random bits, a code 40 (eight characters people can type from a letter);
both work once, expire, and are stored only as SHA-256 hashes. Codes are short, so the web
layer rate-limits attempts; 40 bits at a few attempts a minute cannot be guessed in a lifetime.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, insert, select, update

from goodthings.core import ledger
from goodthings.core.errors import GoodthingsError
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp

LINK_PATH = "/portal/sign-in/"
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read off paper


class SignInError(GoodthingsError):
    """A sign-in link or code is unknown, used, or expired."""


@dataclass(frozen=True)
class Invite:
    subject_id: str
    name: str
    contact: str | None
    link: str
    code: str
    expires_at: datetime


class Sender(Protocol):
    """Delivers an invite to a person: a letter, an e-mail, an SMS gateway…"""

    def send(self, invite: Invite) -> None: ...


class FileSender:
    """Development sender: writes each invite as a letter into a directory (mode 0600)."""

    def __init__(self, outbox: Path) -> None:
        self.outbox = outbox

    def send(self, invite: Invite) -> None:
        self.outbox.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.outbox / f"invite-{invite.subject_id}-{secrets.token_hex(4)}.txt"
        path.touch(mode=0o600)
        path.write_text(letter(invite), encoding="utf-8")


def letter(invite: Invite) -> str:
    """The welcome letter's text, in plain words."""
    return (
        f"Dear {invite.name},\n\n"
        "You can see what our devices collect about you, change your choices, download your\n"
        "data or ask us to erase it, on this page:\n\n"
        f"    {invite.link}\n\n"
        f"Or go to the portal and type this code: {invite.code}\n\n"
        f"The link and the code work once, until {invite.expires_at:%d %B %Y %H:%M} UTC.\n"
    )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_code(code: str) -> str:
    """What people type: any case, with or without the dash and spaces."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def issue_invite(
    connection: Connection, subject_id: str, base_url: str, valid_for: timedelta
) -> Invite:
    """A new one-time link and code for a person; shown once, stored hashed."""
    person = connection.execute(
        select(t.subjects.c.name, t.subjects.c.contact).where(
            t.subjects.c.id == subject_id, t.subjects.c.retired_at.is_(None)
        )
    ).first()
    if person is None:
        raise SignInError(
            f"there is no subject {subject_id!r} in this deployment; "
            "people are declared under `subjects:` in the manifest"
        )
    token = secrets.token_urlsafe(32)
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    now = datetime.now(UTC)
    expires = now + valid_for
    connection.execute(
        insert(tp.portal_invites).values(
            link_hash=_hash(token),
            code_hash=_hash(raw),
            subject_id=subject_id,
            created_at=now,
            expires_at=expires,
        )
    )
    return Invite(
        subject_id=subject_id,
        name=person.name,
        contact=person.contact,
        link=base_url.rstrip("/") + LINK_PATH + token,
        code=f"{raw[:4]}-{raw[4:]}",
        expires_at=expires,
    )


def redeem(connection: Connection, *, link: str | None = None, code: str | None = None) -> str:
    """Use a link token or a code once; returns whose it was."""
    invites = tp.portal_invites
    if link is not None:
        condition = invites.c.link_hash == _hash(link)
    elif code is not None:
        condition = invites.c.code_hash == _hash(normalise_code(code))
    else:
        raise SignInError("give a sign-in link or a code")
    now = datetime.now(UTC)
    subject_id = connection.execute(
        select(invites.c.subject_id).where(condition)
    ).scalar_one_or_none()
    # One UPDATE decides: two tabs using the same link at once cannot both succeed.
    used = connection.execute(
        update(invites)
        .where(condition, invites.c.used_at.is_(None), invites.c.expires_at > now)
        .values(used_at=now)
    )
    if subject_id is None or used.rowcount != 1:
        raise SignInError(
            "this sign-in link or code does not work: it may have been used already or have "
            "expired. Ask for a new one."
        )
    return str(subject_id)


def start_session(connection: Connection, subject_id: str, valid_for: timedelta) -> str:
    """A new session token for the cookie; the store keeps only its hash."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    connection.execute(
        insert(tp.portal_sessions).values(
            token_hash=_hash(token),
            subject_id=subject_id,
            created_at=now,
            expires_at=now + valid_for,
        )
    )
    return token


def sign_in(
    engine: Engine,
    signer: Ed25519PrivateKey,
    *,
    link: str | None = None,
    code: str | None = None,
    valid_for: timedelta,
) -> tuple[str, str]:
    """Use a link or code and start a session, recorded in the ledger, in one transaction;
    (subject id, session token). Raises `SignInError` when the link or code does not work."""
    with engine.begin() as connection:
        subject_id = redeem(connection, link=link, code=code)
        token = start_session(connection, subject_id, valid_for)
        _record(
            connection, signer, subject_id, "portal.sign_in", {"by_link" if link else "by_code": 1}
        )
    return subject_id, token


def sign_out(engine: Engine, signer: Ed25519PrivateKey, subject_id: str, token: str) -> None:
    """End one session of the person, recorded in the ledger."""
    with engine.begin() as connection:
        end_sessions(connection, token=token)
        _record(connection, signer, subject_id, "portal.sign_out", {})


def _record(
    connection: Connection,
    signer: Ed25519PrivateKey,
    subject_id: str,
    action: str,
    counts: dict[str, int],
) -> None:
    ledger.append(
        connection,
        signer,
        actor=f"subject:{subject_id}",
        action=action,
        target=f"subject:{subject_id}",
        counts=counts,
    )


def session_subject(connection: Connection, token: str) -> str | None:
    """Whose session this is, or None when it is unknown, ended or expired."""
    sessions = tp.portal_sessions
    found = connection.execute(
        select(sessions.c.subject_id)
        .join(t.subjects, t.subjects.c.id == sessions.c.subject_id)
        .where(
            sessions.c.token_hash == _hash(token),
            sessions.c.revoked_at.is_(None),
            sessions.c.expires_at > datetime.now(UTC),
            t.subjects.c.retired_at.is_(None),
        )
    ).scalar_one_or_none()
    return None if found is None else str(found)


def end_sessions(
    connection: Connection, *, token: str | None = None, subject_id: str | None = None
) -> None:
    """Sign out one session, or every session of a person."""
    sessions = tp.portal_sessions
    query = update(sessions).where(sessions.c.revoked_at.is_(None))
    if token is not None:
        query = query.where(sessions.c.token_hash == _hash(token))
    elif subject_id is not None:
        query = query.where(sessions.c.subject_id == subject_id)
    else:
        return
    connection.execute(query.values(revoked_at=datetime.now(UTC)))


def csrf_token(session_token: str) -> str:
    """The token every form of a session carries: derived from the session secret, so a page
    of another site cannot know it."""
    return hmac.new(
        session_token.encode(), b"goodthings-portal-csrf:v1", hashlib.sha256
    ).hexdigest()


def csrf_ok(session_token: str, presented: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), presented)
