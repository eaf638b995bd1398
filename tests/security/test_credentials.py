"""Onboarding and credentials: unique, shown once, argon2id only, rotation with a grace period."""

from __future__ import annotations

import io
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from cli_helpers import Ran, run
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.core.store import tables_security as ts
from goodthings.runtime.hub import Hub
from goodthings.security import credentials
from goodthings.security.argon2_slots import Argon2Slots
from goodthings.security.tokens import TokenVerifier
from goodthings.web.app import create_app

PACK = b'[{"bt": 1790000000, "n": "temperature", "u": "Cel", "v": 21.0}]'
STRONG = "Quiet-Marmot-Juggles-47-Kettles"


@pytest.fixture
def deployment(capsys: pytest.CaptureFixture[str], home: Home) -> Home:
    assert run(capsys, "init", str(home.root)).code == 0
    return home


def _add(capsys: pytest.CaptureFixture[str], home: Home, *extra: str) -> Ran:
    return run(
        capsys,
        "device",
        "add",
        "thermostat-2",
        "--model",
        "thermia-t5",
        "--place",
        "flat-4",
        "--home",
        str(home.root),
        *extra,
    )


def test_device_add_declares_applies_and_shows_a_unique_credential_once(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    before = deployment.manifest_path.read_text()
    qr = deployment.root / "thermostat-2.png"
    ran = _add(capsys, deployment, "--qr", str(qr))
    assert ran.code == 0, ran.err
    secret = ran.out.strip()
    assert secret.startswith("gtd_") and len(secret) > 50
    assert "shown once" in ran.err and "█" in ran.err
    assert stat.S_IMODE(qr.stat().st_mode) == 0o600
    assert qr.read_bytes().startswith(b"\x89PNG")
    after = deployment.manifest_path.read_text()
    assert after.startswith(before.split("devices:")[0])  # comments and sections kept
    assert '- id: "thermostat-2"\n    model: "thermia-t5"' in after
    assert 'firmware: "5.1.0"' in after  # the model's newest declared version
    hub = Hub.open(deployment)
    try:
        assert hub.tokens.device_for(secret) == "thermostat-2"
        with hub.engine.connect() as connection:
            hashes = connection.execute(select(t.device_tokens.c.secret_hash)).scalars().all()
        assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    finally:
        hub.close()
    database = (deployment.root / "goodthings.db").read_bytes()
    assert secret.split("_", 2)[2].encode() not in database
    again = _add(capsys, deployment)
    assert again.code == 1 and "already in the manifest" in again.err
    second = run(capsys, "device", "rotate", "thermostat-2", "--home", str(deployment.root))
    assert second.out.strip() != secret


@pytest.mark.parametrize(
    ("password", "reason"),
    [("xc3511", "Mirai botnet"), ("hunter2hunter2", "too easy to guess")],
)
def test_device_add_refuses_a_bad_password_and_changes_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    deployment: Home,
    password: str,
    reason: str,
) -> None:
    before = deployment.manifest_path.read_text()
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    ran = _add(capsys, deployment, "--password-from-stdin")
    assert ran.code == 1
    assert "password refused" in ran.err and reason in ran.err
    assert deployment.manifest_path.read_text() == before
    hub = Hub.open(deployment)
    try:
        with hub.engine.connect() as connection:
            refusals = connection.execute(select(ts.password_refusals.c.device_id)).all()
            devices = connection.execute(
                select(func.count()).where(t.devices.c.id == "thermostat-2")
            ).scalar_one()
        assert refusals == [("thermostat-2",)] and devices == 0
    finally:
        hub.close()


def test_device_add_with_a_good_password_never_prints_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, deployment: Home
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(STRONG + "\n"))
    ran = _add(capsys, deployment, "--password-from-stdin")
    assert ran.code == 0, ran.err
    assert STRONG not in ran.out + ran.err
    hub = Hub.open(deployment)
    try:
        assert hub.tokens.check_password("thermostat-2", STRONG)
        assert not hub.tokens.check_password("thermostat-2", STRONG + "x")
        assert not hub.tokens.check_password("meter-1", STRONG)
    finally:
        hub.close()


def test_device_add_names_the_models_that_exist(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    ran = run(
        capsys,
        "device",
        "add",
        "x-1",
        "--model",
        "toaster",
        "--place",
        "flat-4",
        "--home",
        str(deployment.root),
    )
    assert ran.code == 1
    assert "no device model 'toaster'" in ran.err and "thermia-t5" in ran.err


def test_rotation_keeps_the_old_credential_for_the_grace_period_only(smart_home: Hub) -> None:
    verifier = TokenVerifier(smart_home.engine, ttl=0)
    with smart_home.engine.begin() as connection:
        old = credentials.issue_token(connection, "meter-1")
        new = credentials.rotate(connection, "meter-1", grace=timedelta(hours=1))
    assert verifier.device_for(old) == "meter-1"
    assert verifier.device_for(new.secret) == "meter-1"
    assert verifier.check_password("meter-1", old)
    # The grace period ends: the old credential stops, the new one goes on.
    with smart_home.engine.begin() as connection:
        connection.execute(
            update(t.device_tokens)
            .where(t.device_tokens.c.expires_at.is_not(None))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert verifier.device_for(old) is None
    assert not verifier.check_password("meter-1", old)
    assert verifier.device_for(new.secret) == "meter-1"
    with smart_home.engine.begin() as connection:
        immediate = credentials.rotate(connection, "meter-1", grace=timedelta(0))
    assert verifier.device_for(new.secret) is None
    assert verifier.device_for(immediate.secret) == "meter-1"


def test_a_refused_rotation_leaves_the_old_credential_working(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        old = credentials.issue_token(connection, "meter-1")
    with pytest.raises(credentials.PasswordRefused, match="Mirai"), smart_home.engine.begin() as c:
        credentials.rotate(
            c, "meter-1", grace=timedelta(0), password="vizxv", key=smart_home.password_key
        )
    assert TokenVerifier(smart_home.engine, ttl=0).device_for(old) == "meter-1"


def test_verified_tokens_are_remembered_briefly_so_ingest_stays_fast(smart_home: Hub) -> None:
    # Followed only when asked here, so that a slow machine does not make the memory stale.
    verifier = TokenVerifier(smart_home.engine, ttl=60, follow_every=3600)
    with smart_home.engine.begin() as connection:
        token = credentials.issue_token(connection, "meter-1")
    started = time.perf_counter()
    assert verifier.device_for(token) == "meter-1"
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(10_000):
        assert verifier.cached(token) == "meter-1"
    cached = (time.perf_counter() - started) / 10_000
    assert cached < first / 100  # argon2id once, then a dictionary look-up
    wrong = token[:-4] + "AAAA"
    assert verifier.device_for(wrong) is None
    assert verifier.verify(wrong).claimed == "meter-1"  # counted against the device
    with smart_home.engine.begin() as connection:
        credentials.revoke_all(connection, "meter-1")
    assert verifier.device_for(token) == "meter-1"  # until the memory follows the store
    with smart_home.engine.connect() as connection:
        verifier.follow(connection)
    assert verifier.device_for(token) is None
    assert verifier.cached(token) is None


def test_a_stale_token_memory_is_not_trusted(smart_home: Hub) -> None:
    """The memory answers only while the credentials' version was looked at recently: a
    revocation by any process (here, by hand in the database) acts within that interval."""
    verifier = TokenVerifier(smart_home.engine, ttl=60, follow_every=0.05)
    with smart_home.engine.begin() as connection:
        token = credentials.issue_token(connection, "meter-1")
    assert verifier.device_for(token) == "meter-1"
    with smart_home.engine.begin() as connection:
        connection.execute(update(t.device_tokens).values(revoked_at=datetime.now(UTC)))
    time.sleep(0.1)
    assert verifier.cached(token) is None  # stale: not trusted without a look at the store
    assert verifier.device_for(token) is None


class CountingSlots(Argon2Slots):
    def __init__(self) -> None:
        super().__init__()
        self.checks = 0

    def verify(self, secret_hash: str, secret: str) -> bool:
        self.checks += 1
        return super().verify(secret_hash, secret)


def test_a_remembered_token_is_not_checked_again_after_a_slow_look_at_the_store(
    smart_home: Hub,
) -> None:
    """A busy worker can take longer than the freshness interval between looking at the store
    and reading its memory: the memory, just followed, still answers. It did not, and every
    such request ran argon2id again (a worker under load spent most of its time on it)."""
    slots = CountingSlots()
    verifier = TokenVerifier(smart_home.engine, ttl=60, slots=slots, follow_every=1e-9)
    with smart_home.engine.begin() as connection:
        token = credentials.issue_token(connection, "meter-1")
        password = credentials.issue_token(connection, "thermostat-1")
    for _ in range(3):
        assert verifier.device_for(token) == "meter-1"
        assert verifier.check_password("thermostat-1", password)
    assert slots.checks == 2, "argon2id once per credential"
    with smart_home.engine.begin() as connection:
        credentials.revoke_all(connection, "meter-1")
    assert verifier.device_for(token) is None, "the look at the store still sees a revocation"
    assert verifier.check_password("thermostat-1", password)
    assert slots.checks == 3, "a moved version forgets every answer: checked once more"


class HeldSlots(CountingSlots):
    """Every check waits until the test lets it finish, as a slow argon2id would."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def verify(self, secret_hash: str, secret: str) -> bool:
        assert self.go.wait(30)
        return super().verify(secret_hash, secret)


def test_many_connections_of_one_device_signing_in_at_once_cost_one_check(
    smart_home: Hub,
) -> None:
    slots = HeldSlots()
    verifier = TokenVerifier(smart_home.engine, ttl=60, slots=slots)
    with smart_home.engine.begin() as connection:
        token = credentials.issue_token(connection, "meter-1")
    wrong = token[:-4] + "AAAA"
    with ThreadPoolExecutor(9) as pool:
        rights = [pool.submit(verifier.device_for, token) for _ in range(8)]
        other = pool.submit(verifier.device_for, wrong)
        time.sleep(0.3)  # all nine are waiting: one check of each credential under way
        slots.go.set()
        assert [f.result(30) for f in rights] == ["meter-1"] * 8
        assert other.result(30) is None, "an answer is never shared with another credential"
    assert slots.checks == 2


@pytest.fixture
def client(deployment: Home) -> Iterator[TestClient]:
    with TestClient(create_app(deployment)) as client:
        yield client


def test_http_ingest_accepts_an_added_device_token(
    capsys: pytest.CaptureFixture[str], deployment: Home, client: TestClient
) -> None:
    ran = _add(capsys, deployment)
    token = ran.out.strip()
    response = client.post("/ingest", content=PACK, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202, response.text
    assert response.json()["stored"] == 1


def test_apply_gives_each_new_device_its_own_credential(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    from goodthings.core.manifest.edit import append_device

    text = deployment.manifest_path.read_text()
    for device in ("meter-8", "meter-9"):
        text = append_device(
            text, {"id": device, "model": "wattwise-m2", "place": "flat-4", "firmware": "2.4.0"}
        )
    deployment.manifest_path.write_text(text)
    applied = run(capsys, "apply", "--home", str(deployment.root))
    assert applied.code == 0, applied.err
    secrets = {}
    for line in applied.out.splitlines():
        if line.startswith("Credential for new device"):
            device = line.split()[4].rstrip(",")
            secrets[device] = line.rsplit(": ", 1)[1]
    assert sorted(secrets) == ["meter-8", "meter-9"]
    assert secrets["meter-8"] != secrets["meter-9"]
    hub = Hub.open(deployment)
    try:
        assert {hub.tokens.device_for(s) for s in secrets.values()} == {"meter-8", "meter-9"}
    finally:
        hub.close()
    again = run(capsys, "apply", "--home", str(deployment.root))
    assert "Credential for new device" not in again.out  # only new devices, only once
