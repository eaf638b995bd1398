"""A change made through a service reaches a running hub's gate at once, not at its next poll."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from goodthings.core.config import Home
from goodthings.ingest import Incoming, Pipeline
from goodthings.policy import changes
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.runtime.hub import Hub
from hubs import clean_environment
from templates import init_from_template

HEART = consent.ConsentChange("alex", "heart_rate", "ServicePersonalisation")


def _collects_heart_rate(hub: Hub) -> bool:
    # `policies()` only reads what the gate holds: it never reloads it.
    return hub.pipeline.policies()["band-alex"].streams["heart_rate"].collect


def test_consent_given_through_the_service_reaches_the_gate_at_once(smart_home: Hub) -> None:
    assert not _collects_heart_rate(smart_home)
    consent.give(smart_home.engine, smart_home.signer, HEART)
    assert _collects_heart_rate(smart_home)


def test_withdrawal_through_the_service_reaches_the_gate_at_once(smart_home: Hub) -> None:
    consent.give(smart_home.engine, smart_home.signer, HEART)
    consent.withdraw(smart_home.engine, smart_home.signer, HEART)
    assert not _collects_heart_rate(smart_home)


def test_erasure_through_the_service_stops_collection_at_once(smart_home: Hub) -> None:
    consent.give(smart_home.engine, smart_home.signer, HEART)
    erase_subject(smart_home.engine, smart_home.keyring, smart_home.signer, "alex")
    assert not _collects_heart_rate(smart_home)


def test_a_listener_that_stopped_hears_no_more_changes(smart_home: Hub) -> None:
    heard: list[str] = []
    stop = changes.listen(smart_home.engine, lambda: heard.append("change"))
    changes.announce(smart_home.engine)
    stop()
    changes.announce(smart_home.engine)
    assert heard == ["change"]


def test_a_change_with_no_hub_listening_is_left_to_the_poll(smart_home: Hub) -> None:
    """The CLI's case: nobody listens in its process, and the change is made all the same."""
    smart_home.close()
    consent.give(smart_home.engine, smart_home.signer, HEART)
    assert not _collects_heart_rate(smart_home)
    smart_home.pipeline.refresh()
    assert _collects_heart_rate(smart_home)


@pytest.fixture
def hub_that_never_polls(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    """The smart home, served by a hub whose gate would not look at the store for an hour on
    its own: whatever reaches it sooner came by a wake-up."""
    override = None if database_url.startswith("sqlite") else database_url
    deployment = Home(tmp_path / "smart-home", override)
    init_from_template(deployment, "smart-home")
    settings = deployment.settings.model_copy(update={"policy_poll": 3600.0})
    hub = Hub.open(replace(deployment, settings=settings))
    yield hub
    hub.close()


def _eventually(check: object, what: str) -> None:
    assert callable(check)
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_change_made_by_the_cli_in_another_process_wakes_the_hub(
    hub_that_never_polls: Hub,
) -> None:
    hub = hub_that_never_polls
    assert not _collects_heart_rate(hub)
    env = clean_environment()
    if hub.home.database_url_override is not None:
        env["GOODTHINGS_DATABASE_URL"] = hub.home.database_url_override
    arguments = ["--subject", "alex", "--stream", "heart_rate", "--purpose", HEART.purpose]
    command = [sys.executable, "-m", "goodthings", "consent"]
    home = ["--home", str(hub.home.root)]
    subprocess.run([*command, "give", *arguments, *home], check=True, env=env)
    _eventually(lambda: _collects_heart_rate(hub), "the hub never heard of the consent")
    subprocess.run([*command, "withdraw", *arguments, *home], check=True, env=env)
    _eventually(lambda: not _collects_heart_rate(hub), "the hub never heard of the withdrawal")
    assert hub.policy_changed_at > 0


def _heartbeat(at: float) -> Incoming:
    pack = [{"n": "band-alex:heart_rate", "u": "beat/min", "v": 60, "t": at}]
    return Incoming("band-alex", json.dumps(pack).encode(), time.time())


def test_a_batch_after_a_wake_up_decides_with_the_new_gate(smart_home: Hub) -> None:
    """The wake-up's reload runs on the listener's thread: a batch that starts meanwhile must
    wait for it, not decide with the gate it had (a second pipeline, told nothing else)."""
    pipeline = Pipeline(
        smart_home.engine, smart_home.keyring, smart_home.signer, refresh_interval=3600
    )
    now = time.time() - 60
    consent.give(smart_home.engine, smart_home.signer, HEART)
    assert pipeline.ingest([_heartbeat(now)]).results[0].stored == 0  # it was not told yet
    pipeline.changed_elsewhere()
    assert pipeline.ingest([_heartbeat(now + 1)]).results[0].stored == 1
    consent.withdraw(smart_home.engine, smart_home.signer, HEART)
    pipeline.changed_elsewhere()
    assert pipeline.ingest([_heartbeat(now + 2)]).results[0].stored == 0
