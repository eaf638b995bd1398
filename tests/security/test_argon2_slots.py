"""argon2id checks, 64 MiB each, run a few at a time however many devices sign in at once."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest

from goodthings.core.config import Home, Settings
from goodthings.security import Argon2Slots, Busy, argon2_slots
from goodthings.security.argon2_slots import hasher
from goodthings.security.credentials import issue_token
from goodthings.security.lockout import Lockout, Scope
from goodthings.security.tokens import TokenVerifier
from goodthings.web.app import create_app
from templates import init_from_template

PACK = b'[{"bt": 1790000000, "n": "temperature", "u": "Cel", "v": 21.0}]'


def test_sixteen_checks_at_once_run_at_most_the_limit_at_a_time() -> None:
    slots = Argon2Slots(limit=2, wait=60.0)
    secret_hash = hasher.hash("correct horse")
    start = threading.Barrier(16)

    def check(secret: str) -> bool:
        start.wait()
        return slots.verify(secret_hash, secret)

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(check, ["correct horse"] * 15 + ["wrong"]))
    assert answers == [True] * 15 + [False]
    assert 1 <= slots.peak <= 2


def test_a_check_that_finds_no_free_slot_in_time_is_refused_as_busy() -> None:
    slots = Argon2Slots(limit=1, wait=0.0)
    with slots.slot(), pytest.raises(Busy, match="none could start within 0 s"):
        slots.verify(hasher.hash("secret"), "secret")
    assert slots.verify(hasher.hash("secret"), "secret")  # free again afterwards


def test_sixteen_first_sign_ins_over_http_share_the_slots(home: Home) -> None:
    init_from_template(home, "smart-home")
    app = create_app(Home(home.root, settings=Settings(argon2_concurrency=2, argon2_wait=60.0)))
    hub = app.state.hub
    with hub.engine.begin() as connection:
        tokens = [issue_token(connection, "thermostat-1") for _ in range(16)]

    async def sign_in_all() -> list[int]:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://hub") as client:
            answers = await asyncio.gather(
                *(
                    client.post("/ingest", content=PACK, headers={"Authorization": f"Bearer {t}"})
                    for t in tokens
                )
            )
        return [answer.status_code for answer in answers]

    try:
        statuses = asyncio.run(sign_in_all())
    finally:
        hub.close()
    assert sorted(set(statuses)) == [202]  # all queued for a slot, none refused
    assert 1 <= hub.tokens.slots.peak <= 2


def test_sixteen_first_mqtt_sign_ins_share_the_slots(home: Home) -> None:
    init_from_template(home, "smart-home")
    app = create_app(home)
    hub = app.state.hub
    with hub.engine.begin() as connection:
        secrets = [issue_token(connection, "meter-1") for _ in range(16)]
    verifier = TokenVerifier(hub.engine, slots=Argon2Slots(limit=2, wait=60.0))
    start = threading.Barrier(16)

    def sign_in(secret: str) -> bool:
        start.wait()
        return verifier.check_password("meter-1", secret)  # what the embedded broker calls

    try:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(sign_in, secrets))
    finally:
        hub.close()
    assert answers == [True] * 16
    assert 1 <= verifier.slots.peak <= 2


def test_a_sign_in_that_waits_too_long_is_answered_503_with_retry_after(home: Home) -> None:
    init_from_template(home, "smart-home")
    app = create_app(Home(home.root, settings=Settings(argon2_concurrency=1, argon2_wait=0.0)))
    hub = app.state.hub
    with hub.engine.begin() as connection:
        token = issue_token(connection, "thermostat-1")

    async def sign_in() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=app)
        async with httpx2.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.post(
                "/ingest", content=PACK, headers={"Authorization": f"Bearer {token}"}
            )

    hub.lockout = Lockout(threshold=1)
    try:
        with hub.tokens.slots.slot():
            answer = asyncio.run(sign_in())
        # A busy hub is not a failed sign-in: nothing was counted against the address.
        assert hub.lockout.retry_after((Scope.address, "127.0.0.1")) == 0
    finally:
        hub.close()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert "checking many credentials at once" in answer.json()["error"]


def test_each_check_first_gives_the_heaps_free_pages_back_inside_its_slot(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A check's 64 MiB land on top of what is resident: the heap's leftovers go first."""
    slots = Argon2Slots(limit=1, wait=0.0)
    running_at_trim: list[int] = []

    def trim() -> bool:
        running_at_trim.append(slots._running)
        return True

    monkeypatch.setattr(argon2_slots.heap, "trim", trim)
    secret_hash = hasher.hash("secret")
    assert slots.verify(secret_hash, "secret") and not slots.verify(secret_hash, "wrong")
    assert running_at_trim == [1, 1]  # once per check, after its slot was taken
    with slots.slot(), pytest.raises(Busy):
        slots.verify(secret_hash, "secret")
    assert len(running_at_trim) == 3  # the held slot trimmed; the refused check did not
