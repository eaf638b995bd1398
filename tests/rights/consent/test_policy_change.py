"""A change made through a service reaches a running hub's gate at once, not at its next poll."""

from __future__ import annotations

from goodthings.policy import changes
from goodthings.rights.consent import records as consent
from goodthings.rights.erasure import erase_subject
from goodthings.runtime.hub import Hub

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
