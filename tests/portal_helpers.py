"""Signing a person in to the portal in tests, the way a browser does: link, button, cookie."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

from fastapi.testclient import TestClient

from goodthings.ingest.batch import Incoming
from goodthings.rights import signin
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub

BASE = "https://testserver"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def invite(hub: Hub, subject_id: str, hours: float = 1.0) -> signin.Invite:
    with hub.engine.begin() as connection:
        return signin.issue_invite(connection, subject_id, BASE, timedelta(hours=hours))


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, hub: Hub, subject_id: str) -> str:
    """Sign in with a fresh link; returns the session's CSRF token."""
    made = invite(hub, subject_id)
    path = made.link.removeprefix(BASE)
    page = client.get(path)
    answer = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/portal").text)


def give(hub: Hub, *choices: tuple[str, str, str]) -> None:
    """Give each (person, stream, purpose) consent, then reload the gate so ingest sees them."""
    for person, stream, purpose in choices:
        consent.give(hub.engine, hub.signer, consent.ConsentChange(person, stream, purpose))
    hub.pipeline.refresh()


def send(
    hub: Hub, device: str, stream: str, values: list[float], start: float | None = None
) -> int:
    """Ingest `values` one second apart; returns how many were stored."""
    begin = start if start is not None else time.time() - len(values)
    pack = [{"bt": begin, "n": stream, "v": values[0]}] + [
        {"n": stream, "t": i, "v": v} for i, v in enumerate(values[1:], start=1)
    ]
    outcome = hub.pipeline.ingest([Incoming(device, json.dumps(pack).encode(), time.time())])
    return outcome.results[0].stored
