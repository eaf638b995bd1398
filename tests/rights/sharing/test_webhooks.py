"""Webhook sharing against a real HTTP server on 127.0.0.1: signed, gated, retried, dead-lettered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import load_secret_root
from goodthings.core.ledger import journal as ledger_store
from goodthings.core.manifest import load_manifest
from goodthings.core.store import tables as t
from goodthings.deployment.apply import apply_manifest
from goodthings.ingest.batch import Incoming
from goodthings.rights.consent import records as consent
from goodthings.rights.sharing import (
    HEADER,
    RetryPolicy,
    UnknownDelivery,
    UnknownRecipient,
    WebhookSecrets,
    deliver_due,
    listing,
    replay,
    rotate_secret,
    schedule,
    signature,
    verify,
)
from goodthings.rights.sharing.rotation import generations
from goodthings.runtime.hub import Hub
from templates import init_from_template

NOW = 1_790_000_000.0


@dataclass
class Receiver:
    """A recipient's webhook endpoint: records what arrives, answers with the queued statuses."""

    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append((dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def hub(tmp_path: Path, database_url: str, receiver: Receiver) -> Iterator[Hub]:
    override = None if database_url.startswith("sqlite") else database_url
    home = Home(tmp_path / "home", override)
    init_from_template(home, "smart-home")
    text = home.manifest_path.read_text()
    for recipient in ("northgrid-energy", "uni-energy-study"):
        text = text.replace(
            f"  - id: {recipient}\n",
            f"  - id: {recipient}\n    webhook_url: {receiver.url}/{recipient}\n",
        )
    home.manifest_path.write_text(text)
    opened = Hub.open(home)
    apply_manifest(opened.engine, load_manifest(home.manifest_path))
    opened.pipeline.refresh(force=True)
    records = [{"n": "power", "t": NOW + i, "v": 400.0 + i} for i in range(3)]
    opened.pipeline.ingest([Incoming("meter-1", json.dumps(records).encode(), time.time())])
    yield opened
    opened.close()


def _secrets(hub: Hub) -> WebhookSecrets:
    return WebhookSecrets(load_secret_root(hub.home.keys_dir))


def _deliver(hub: Hub, now: float, policy: RetryPolicy | None = None) -> list[object]:
    with httpx2.Client(timeout=5.0) as client:
        return deliver_due(  # type: ignore[return-value]
            hub.engine, hub.keyring, hub.signer, _secrets(hub), client, now=now, policy=policy
        )


def test_declared_shares_are_delivered_signed_and_ledgered(hub: Hub, receiver: Receiver) -> None:
    assert schedule(hub.engine, now=NOW + 60) == 2
    _deliver(hub, NOW + 60)
    # Billing has a contract basis: shared. Research needs consent to share: withheld.
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = json.loads(body)
    assert payload["recipient"] == "northgrid-energy" and payload["purpose"] == "PaymentManagement"
    assert [r["value"] for r in payload["readings"]] == [400.0, 401.0, 402.0]
    secret = _secrets(hub).secret("northgrid-energy")
    assert verify(secret, body, headers[HEADER])
    assert not verify(_secrets(hub).secret("uni-energy-study"), body, headers[HEADER])
    with hub.engine.connect() as connection:
        entry = list(ledger_store.entries(connection))[-1]
        statuses = {d.recipient_id: d.status for d in listing(connection)}
    assert (entry.action, entry.purpose, dict(entry.counts)) == (
        "share",
        "PaymentManagement",
        {"delivered": 3},
    )
    assert statuses == {"northgrid-energy": "delivered", "uni-energy-study": "empty"}
    assert schedule(hub.engine, now=NOW + 60) == 0


def test_consent_to_share_with_a_researcher_at_summary_level(hub: Hub, receiver: Receiver) -> None:
    for subject in ("alex", "sam"):
        change = consent.ConsentChange(
            subject,
            "power",
            "ResearchAndDevelopment",
            recipient="uni-energy-study",
            level="aggregate",
        )
        consent.give(hub.engine, hub.signer, change)
    schedule(hub.engine, now=NOW + 60)
    _deliver(hub, NOW + 60)
    research = [json.loads(b) for _, b in receiver.received if b"uni-energy-study" in b]
    assert len(research) == 1
    assert [(r["value"], r["count"], r["level"]) for r in research[0]["readings"]] == [
        (401.0, 3, "aggregate")
    ]


def test_failures_back_off_then_dead_letter_then_replay(hub: Hub, receiver: Receiver) -> None:
    policy = RetryPolicy(max_attempts=3, base_seconds=10, cap_seconds=100)
    receiver.statuses = [500, 503, 500]
    schedule(hub.engine, now=NOW + 60)
    _deliver(hub, NOW + 60, policy)
    assert len(receiver.received) == 1
    _deliver(hub, NOW + 65, policy)  # not due yet: 10 s back-off
    assert len(receiver.received) == 1
    _deliver(hub, NOW + 70, policy)
    _deliver(hub, NOW + 89, policy)  # second back-off is 20 s
    assert len(receiver.received) == 2
    _deliver(hub, NOW + 90, policy)
    assert len(receiver.received) == 3
    with hub.engine.connect() as connection:
        dead = listing(connection, "dead")
    assert [(d.recipient_id, d.attempts, d.last_error) for d in dead] == [
        ("northgrid-energy", 3, f"HTTP 500 from {receiver.url}/northgrid-energy")
    ]
    replay(hub.engine, hub.signer, dead[0].id, now=NOW + 100)
    _deliver(hub, NOW + 100, policy)
    assert len(receiver.received) == 4
    with hub.engine.connect() as connection:
        assert listing(connection, "dead") == []
        actions = [e.action for e in ledger_store.entries(connection)]
    assert actions[-3:] == ["share.dead-letter", "share.replay", "share"]
    with pytest.raises(UnknownDelivery):
        replay(hub.engine, hub.signer, dead[0].id)


def test_an_unreachable_recipient_is_retried(hub: Hub) -> None:
    with hub.engine.begin() as connection:
        spec = connection.execute(
            select(t.recipients.c.spec).where(t.recipients.c.id == "northgrid-energy")
        ).scalar_one()
        closed = {**spec, "webhook_url": "http://127.0.0.1:9/closed"}
        connection.execute(
            t.recipients.update().where(t.recipients.c.id == "northgrid-energy").values(spec=closed)
        )
    schedule(hub.engine, now=NOW + 60)
    _deliver(hub, NOW + 60)
    with hub.engine.connect() as connection:
        pending = [d for d in listing(connection) if d.recipient_id == "northgrid-energy"]
    assert pending[0].status == "pending" and pending[0].attempts == 1
    assert "could not reach http://127.0.0.1:9/closed" in (pending[0].last_error or "")


def test_share_commands(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    hub: Hub,
    receiver: Receiver,
) -> None:
    home = ["--home", str(hub.home.root)]
    if hub.home.database_url_override:
        monkeypatch.setenv("GOODTHINGS_DATABASE_URL", hub.home.database_url_override)
    ran = run(capsys, "share", "run", *home)
    assert ran.code == 0 and "northgrid-energy" in ran.out and "delivered, 3 readings" in ran.out
    assert run(capsys, "share", "dead-letters", *home).out.strip() == "No dead letters."
    secret = run(capsys, "share", "secret", "northgrid-energy", *home)
    assert secret.out.strip() == _secrets(hub).secret("northgrid-energy")
    unknown = run(capsys, "share", "secret", "acme", *home)
    assert unknown.code == 1 and "there is no recipient 'acme'" in unknown.err
    missing = run(capsys, "share", "replay", "999", *home)
    assert missing.code == 1 and "no dead-lettered delivery 999" in missing.err


def _power(hub: Hub, start: float, count: int) -> int:
    records = [{"n": "power", "t": start + i, "v": 500.0 + i} for i in range(count)]
    outcome = hub.pipeline.ingest([Incoming("meter-1", json.dumps(records).encode(), time.time())])
    return outcome.results[0].stored


def _signatures(header: str) -> list[str]:
    return [part for part in header.split(",") if part.startswith("v1=")]


def test_a_rotated_secret_signs_beside_the_old_one_until_the_overlap_ends(
    hub: Hub, receiver: Receiver
) -> None:
    old = _secrets(hub).secret("northgrid-energy")
    stored = {"power": 3}
    failures: list[BaseException] = []
    stop = threading.Event()

    def ingest() -> None:
        try:
            step = 0
            while not stop.is_set():
                step += 1
                stored["power"] += _power(hub, NOW + 10 + 2 * step, 2)
        except BaseException as error:  # handed to the test thread
            failures.append(error)

    worker = threading.Thread(target=ingest)
    worker.start()
    try:
        time.sleep(0.1)
        rotated = rotate_secret(
            hub.engine, hub.signer, _secrets(hub), "northgrid-energy", overlap=3600, now=NOW + 5_000
        )
        time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not failures, failures
    new = rotated.secret
    assert rotated.generation == 1 and new != old
    assert new == _secrets(hub).secret("northgrid-energy", 1)
    assert _secrets(hub).secret("uni-energy-study", 1) not in (new, old)

    # During the overlap: one delivery, two signatures; each receiver knows only one secret.
    assert schedule(hub.engine, now=NOW + 6_000) == 2
    _deliver(hub, NOW + 6_000)
    headers, body = receiver.received[-1]
    assert len(json.loads(body)["readings"]) == stored["power"], "every reading, old and new"
    assert len(_signatures(headers[HEADER])) == 2
    assert verify(old, body, headers[HEADER]), "a receiver that knows only the old secret"
    assert verify(new, body, headers[HEADER]), "a receiver that knows only the new secret"
    assert not verify(_secrets(hub).secret("northgrid-energy", 2), body, headers[HEADER])

    # After the overlap: the new secret alone.
    _power(hub, NOW + 8_000, 2)
    assert schedule(hub.engine, now=NOW + 9_000) == 2
    _deliver(hub, NOW + 9_000)
    headers, body = receiver.received[-1]
    assert len(_signatures(headers[HEADER])) == 1
    assert verify(new, body, headers[HEADER])
    assert not verify(old, body, headers[HEADER]), "the old secret no longer signs"

    with hub.engine.connect() as connection:
        entries = [e for e in ledger_store.entries(connection) if e.action == "share.rotate-secret"]
    assert [(e.object, dict(e.counts)) for e in entries] == [
        ("recipient:northgrid-energy", {"generation": 1, "overlap_seconds": 3600})
    ]
    assert new.removeprefix("whs_") not in repr(entries) and old not in repr(entries)


def test_rotating_again_during_an_overlap_drops_the_oldest_secret(hub: Hub) -> None:
    secrets = _secrets(hub)
    rotate_secret(hub.engine, hub.signer, secrets, "northgrid-energy", overlap=3600, now=NOW)
    rotate_secret(hub.engine, hub.signer, secrets, "northgrid-energy", overlap=3600, now=NOW + 1)
    with hub.engine.connect() as connection:
        assert generations(connection, "northgrid-energy", NOW + 2) == (2, 1)
        assert generations(connection, "uni-energy-study", NOW + 2) == (0,)
    with pytest.raises(UnknownRecipient, match="there is no recipient 'acme'"):
        rotate_secret(hub.engine, hub.signer, secrets, "acme")
    with pytest.raises(GoodthingsError, match="0 or more seconds"):
        rotate_secret(hub.engine, hub.signer, secrets, "northgrid-energy", overlap=-1)


def test_a_header_with_two_timestamps_or_no_signature_is_refused() -> None:
    body = b"{}"
    good = signature("whs_a", body, 100)
    assert verify("whs_a", body, good)
    assert not verify("whs_a", body, "t=100")
    assert not verify("whs_a", body, "t=101," + good)
    assert not verify("whs_a", body, good.replace("t=100", "t=x"))


def test_share_rotate_secret_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, hub: Hub
) -> None:
    home = ["--home", str(hub.home.root)]
    if hub.home.database_url_override:
        monkeypatch.setenv("GOODTHINGS_DATABASE_URL", hub.home.database_url_override)
    rotated = run(
        capsys, "share", "rotate-secret", "northgrid-energy", "--overlap-hours", "2", *home
    )
    assert rotated.code == 0, rotated.err
    assert rotated.out.strip() == _secrets(hub).secret("northgrid-energy", 1)
    assert "old secret and the new one" in rotated.err
    shown = run(capsys, "share", "secret", "northgrid-energy", *home)
    assert shown.out.strip() == rotated.out.strip()
    unknown = run(capsys, "share", "rotate-secret", "acme", *home)
    assert unknown.code == 1 and "there is no recipient 'acme'" in unknown.err
