"""Console accounts for tests: made through the same service as `goodthings operator add`, and
signed in through the real pages (password, then a code pyotp computes from the secret)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select

from goodthings.core.store import tables_console as tc
from goodthings.runtime.hub import Hub
from goodthings.security import Role, operators

PASSWORD = "correct horse battery staple 42"


def add_account(hub: Hub, name: str, role: Role) -> None:
    """An account with a known password (so no one-time password step)."""
    with hub.engine.begin() as connection:
        operators.add(connection, hub.signer, name, role, PASSWORD)


def secret_of(hub: Hub, name: str) -> str:
    """The secret the enrolment page showed (the store holds it encrypted)."""
    with hub.engine.connect() as connection:
        stored = connection.execute(
            select(tc.operators.c.totp_secret).where(tc.operators.c.name == name)
        ).scalar_one()
    assert stored is not None, f"{name} has no TOTP secret yet"
    assert len(stored) > 32, "the TOTP secret is stored in the clear"
    with hub.engine.connect() as connection:
        return operators.enrolment_secret(connection, name, hub.totp_key)


_ISSUED: dict[str, int] = {}
"""The newest step a code was handed out for, per secret: codes are single-use."""


def next_code(secret: str) -> str:
    """The code of the next 30-second step: the hub accepts one step ahead (a clock that runs a
    little fast). An account signed in twice within one step would be handed the same code,
    which the hub rightly refuses as reused, so the second waits for the step after."""
    totp = pyotp.TOTP(secret)
    while True:
        ahead = datetime.now(UTC) + timedelta(seconds=30)
        step = totp.timecode(ahead)
        if step > _ISSUED.get(secret, -1):
            _ISSUED[secret] = step
            return totp.at(ahead)
        time.sleep(30 - ahead.timestamp() % 30 + 0.05)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def password_step(client: TestClient, name: str, password: str = PASSWORD) -> str:
    """Give name and password; returns the code page's CSRF token."""
    answer = client.post("/console/login", data={"name": name, "password": password})
    assert answer.status_code == 303, answer.text
    page = client.get("/console/login/code")
    assert page.status_code == 200
    return csrf_of(page.text)


def sign_in(client: TestClient, hub: Hub, name: str) -> str:
    """Sign `name` in (enrolling the app the first time); returns a CSRF token of the session."""
    csrf = password_step(client, name)
    code = next_code(secret_of(hub, name))
    answer = client.post("/console/login/code", data={"csrf": csrf, "code": code})
    assert (answer.status_code, answer.headers.get("location")) == (303, "/console")
    return csrf_of(client.get("/console/security").text)
