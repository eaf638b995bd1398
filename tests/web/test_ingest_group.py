"""`POST /ingest` under concurrency, on a real server on loopback: requests that wait together
are stored together (one transaction, one ledger entry), each answered with its own result
after the commit; a failing store answers 503 to every one of them; a stopping hub drains."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.held import held_writes, outside, wait_until

from goodthings.core.config import Home
from goodthings.core.store import select_refused
from goodthings.core.store import tables as t
from goodthings.runtime import Hub
from goodthings.security.credentials import issue_token
from goodthings.web.app import create_app
from templates import init_from_template

NOW = 1_790_000_000


def pack(index: int) -> bytes:
    return json.dumps([{"bt": NOW + index, "n": "temperature", "u": "Cel", "v": 20.0}]).encode()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, object]
    retry_after: str | None


@dataclass(frozen=True)
class Served:
    port: int
    token: str
    hub: Hub

    def post(self, body: bytes) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/senml+json",
            }
            connection.request("POST", "/ingest", body, headers)
            response = connection.getresponse()
            return Answer(
                response.status, json.loads(response.read()), response.getheader("Retry-After")
            )
        finally:
            connection.close()


class AtOnce:
    """Every body POSTed from a thread of its own; returns once each is waiting at the writer
    (so that a store held meanwhile makes them share a group)."""

    def __init__(self, served: Served, bodies: list[bytes]) -> None:
        self._answers: list[Answer | None] = [None] * len(bodies)
        before = served.hub.writer.stats().submitted

        def send(index: int) -> None:
            self._answers[index] = served.post(bodies[index])

        self._threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        for thread in self._threads:
            thread.start()
        wait_until(
            lambda: served.hub.writer.stats().submitted >= before + len(bodies),
            "every request reaching the writer",
        )

    def answers(self) -> list[Answer]:
        for thread in self._threads:
            thread.join(60)
        answers = [answer for answer in self._answers if answer is not None]
        assert len(answers) == len(self._answers), "a request got no answer"
        return answers


@pytest.fixture
def served(home: Home) -> Iterator[Served]:
    """The app served by uvicorn on a free loopback port, as `goodthings serve` runs it."""
    init_from_template(home, "smart-home")
    app = create_app(home)
    hub: Hub = app.state.hub
    with hub.engine.begin() as connection:
        token = issue_token(connection, "thermostat-1")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    target = Served(server.servers[0].sockets[0].getsockname()[1], token, hub)
    assert target.post(pack(-1)).status == 202  # the token verified and remembered, keys ready
    try:
        yield target
    finally:
        server.should_exit = True
        thread.join(30)


def counts(hub: Hub) -> tuple[int, int]:
    """(readings, ledger entries) in the store."""
    with hub.engine.connect() as connection:
        readings = connection.execute(select(func.count()).select_from(t.readings)).scalar_one()
        entries = connection.execute(select(func.count()).select_from(t.ledger_entries))
        return int(readings), int(entries.scalar_one())


def test_concurrent_requests_share_ledger_entries_and_each_gets_its_own_answer(
    served: Served,
) -> None:
    readings, entries = counts(served.hub)
    bodies = [pack(i) for i in range(12)]
    poison = 5
    bodies[poison] = b'[{"n": "temperature", "v": NaN}]'
    with held_writes(served.hub.engine):
        requests = AtOnce(served, bodies)
    answers = requests.answers()
    assert answers[poison].status == 400
    assert str(answers[poison].body["error"]).startswith("record 0, field 'v'")
    others = [answer for index, answer in enumerate(answers) if index != poison]
    assert [(a.status, a.body["stored"]) for a in others] == [(202, 1)] * 11
    after_readings, after_entries = counts(served.hub)
    assert after_readings - readings == 11
    # The group held in the store, one prepared behind it while the store is held (the writer
    # prepares the next group as the store takes one), the rest in the next: 12 requests,
    # at most 3 entries.
    assert after_entries - entries <= 3
    assert {a.body["ledger_entry"] for a in others} <= set(range(entries + 1, after_entries + 1))
    with served.hub.engine.connect() as connection:
        (refused,) = select_refused(connection)
    assert (refused.device_id, refused.refusal) == ("thermostat-1", "malformed")


def test_a_store_that_fails_answers_503_with_retry_after_to_every_waiting_request(
    served: Served,
) -> None:
    readings, _entries = counts(served.hub)
    with held_writes(served.hub.engine) as store:
        store.execute("ALTER TABLE ledger_entries RENAME TO ledger_entries_away")
        requests = AtOnce(served, [pack(i) for i in range(6)])
    answers = requests.answers()
    try:
        assert [(a.status, a.retry_after) for a in answers] == [(503, "5")] * 6
        assert all("send it again" in str(a.body["error"]) for a in answers)
        assert served.hub.writer.stats().failed_groups >= 1
    finally:
        with outside(served.hub.engine) as store:
            store.execute("ALTER TABLE ledger_entries_away RENAME TO ledger_entries")
    assert counts(served.hub)[0] == readings
    # The device sends again once the store is back, and every pack is stored.
    assert [served.post(pack(i)).status for i in range(6)] == [202] * 6
    assert counts(served.hub)[0] == readings + 6


def test_a_request_after_the_writer_stopped_gets_503_with_retry_after(home: Home) -> None:
    init_from_template(home, "smart-home")
    with TestClient(create_app(home)) as client:
        hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
        with hub.engine.begin() as connection:
            token = issue_token(connection, "thermostat-1")
        hub.writer.stop()
        response = client.post(
            "/ingest", content=pack(0), headers={"Authorization": f"Bearer {token}"}
        )
    assert (response.status_code, response.headers["Retry-After"]) == (503, "5")
    assert "shutting down" in response.json()["error"]


def test_closing_the_hub_stores_and_answers_every_request_its_writer_had_taken(
    served: Served,
) -> None:
    """Shutdown while requests wait at the writer: each is stored and answered 202 first."""
    readings, _entries = counts(served.hub)
    with held_writes(served.hub.engine):
        requests = AtOnce(served, [pack(i) for i in range(4)])
        closing = threading.Thread(target=served.hub.close)
        closing.start()
        wait_until(lambda: not served.hub.writer.accepting, "the writer to begin stopping")
        assert served.post(pack(99)).status == 503
    closing.join(30)
    assert [answer.status for answer in requests.answers()] == [202] * 4
    assert counts(served.hub)[0] == readings + 4
