"""The demo's script: everyone says yes, then one person changes their mind.

It shows the gate at work without anyone touching a keyboard: readings flow, a withdrawal is
published to the device as its new policy, and the device stops sending that stream.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlalchemy import select

from goodthings.core.store import tables as t
from goodthings.rights.consent import ConsentChange, consent_purposes, give, withdraw
from goodthings.runtime import Hub
from goodthings.security import Role, console_sessions, operators

Say = Callable[[str], None]


def console_link(hub: Hub) -> str:
    """A one-time sign-in link for the demo's operator, olu: it stands in for the password; the
    console then asks for a password of one's own and an authenticator app's code."""
    with hub.engine.begin() as connection:
        operators.add(connection, hub.signer, "olu", Role.operator, None)
        link = console_sessions.sign_in_link(connection, "olu")
    return f"{hub.home.settings.public_url}/console/login/link/{link}"


def give_every_consent(hub: Hub) -> list[ConsentChange]:
    """Consent from every subject to every consent-based purpose, as the demo's starting point."""
    with hub.engine.connect() as connection:
        subjects = connection.execute(
            select(t.subjects.c.id)
            .where(t.subjects.c.retired_at.is_(None))
            .order_by(t.subjects.c.id)
        ).scalars()
        changes = [
            change
            for subject in subjects
            for change in consent_purposes(connection, subject, method="demo")
        ]
    for change in changes:
        give(hub.engine, hub.signer, change)
    return changes


def change_of_mind(given: list[ConsentChange]) -> ConsentChange | None:
    """The withdrawal the demo makes: a shared-room stream if there is one, since that shows
    that one occupant's "no" stops the sensor for everyone in the room."""
    for change in given:
        if change.stream.endswith("/presence"):
            return change
    return given[-1] if given else None


class Story:
    """Withdraws one consent after `delay` seconds and says what to look for."""

    def __init__(self, hub: Hub, given: list[ConsentChange], *, delay: float, say: Say) -> None:
        self._hub = hub
        self._change = change_of_mind(given)
        self._delay = delay
        self._say = say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-story", daemon=True)

    def start(self) -> None:
        if self._change is not None:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        change = self._change
        if change is None or self._stop.wait(self._delay):
            return
        withdraw(self._hub.engine, self._hub.signer, change)
        self._say(
            f"Demo: {change.subject_id} withdrew consent to {change.stream} for "
            f"{change.purpose}. Watch the device stop sending it, and the count on the page "
            "stop growing."
        )
