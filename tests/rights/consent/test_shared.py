"""Consent to a stream about everyone in a shared place says that it waits for the others, and
how many have agreed, in `consent give` and in the portal, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from cli_helpers import run
from goodthings.core.keys import load_signing_key
from goodthings.rights.consent import (
    ConsentChange,
    Waiting,
    give,
    shared_agreements,
    waiting_words,
)
from goodthings.runtime.hub import Hub
from goodthings.web.app import create_app
from portal_helpers import BASE, sign_in

POWER, SAVING = "power", "OptimisationForConsumer"
WAITING = "Collection waits until every resident of Flat 4 agrees: 1 of 2 residents has agreed."


def _give(hub: Hub, subject_id: str) -> None:
    give(hub.engine, load_signing_key(hub.home.keys_dir), ConsentChange(subject_id, POWER, SAVING))


def _agreements(hub: Hub, subject_id: str) -> list[Waiting]:
    with hub.engine.connect() as connection:
        return shared_agreements(connection, subject_id, POWER, SAVING)


def test_one_of_two_residents_agreeing_waits_for_the_other(smart_home: Hub) -> None:
    assert _agreements(smart_home, "alex") == [Waiting("Flat 4", "home", 0, 2)]
    _give(smart_home, "alex")
    (waiting,) = _agreements(smart_home, "sam")  # the other resident sees the same count
    assert waiting_words(waiting) == WAITING
    _give(smart_home, "sam")
    (done,) = _agreements(smart_home, "alex")
    assert done.complete
    assert waiting_words(done).startswith("Every resident of Flat 4 has agreed (2 of 2 residents)")


def test_a_stream_about_one_person_or_on_another_basis_waits_for_nobody(smart_home: Hub) -> None:
    with smart_home.engine.connect() as connection:
        assert shared_agreements(connection, "alex", "heart_rate", "ServicePersonalisation") == []
        assert shared_agreements(connection, "alex", POWER, "PaymentManagement") == []


@pytest.mark.parametrize(
    ("agreed", "concerned", "kind", "words"),
    [
        (0, 2, "home", "0 of 2 residents have agreed."),
        (2, 3, "care-facility", "2 of 3 residents have agreed."),
        (1, 3, "office", "agrees: 1 of 3 occupants has agreed."),
    ],
)
def test_the_count_reads_as_a_sentence(agreed: int, concerned: int, kind: str, words: str) -> None:
    assert waiting_words(Waiting("Here", kind, agreed, concerned)).endswith(words)


def test_consent_give_says_that_collection_waits(
    capsys: pytest.CaptureFixture[str], smart_home: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOODTHINGS_DATABASE_URL", raising=False)
    home = str(smart_home.home.root)
    ran = run(
        capsys, "consent", "give", "--subject", "alex", "--stream", POWER,
        "--purpose", SAVING, "--home", home,
    )  # fmt: skip
    assert ran.code == 0, ran.err
    assert WAITING in ran.out


def test_the_portal_says_that_collection_waits(smart_home: Hub) -> None:
    _give(smart_home, "sam")
    with TestClient(create_app(smart_home.home), base_url=BASE) as client:
        sign_in(client, smart_home, "alex")
        page = client.get("/portal").text
    assert WAITING in page


def test_consent_give_json_returns_the_count(
    capsys: pytest.CaptureFixture[str], smart_home: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOODTHINGS_DATABASE_URL", raising=False)
    home = str(smart_home.home.root)
    ran = run(
        capsys, "consent", "give", "--subject", "alex", "--stream", POWER,
        "--purpose", SAVING, "--json", "--home", home,
    )  # fmt: skip
    assert ran.code == 0, ran.err
    document = json.loads(ran.out)
    assert (document["subject_id"], document["state"]) == ("alex", "given")
    assert document["shared"] == [
        {
            "place": "Flat 4",
            "kind": "home",
            "agreed": 1,
            "concerned": 2,
            "complete": False,
            "words": WAITING,
        }
    ]


def test_the_consent_api_returns_the_count(smart_home: Hub) -> None:
    _give(smart_home, "sam")
    with TestClient(create_app(smart_home.home), base_url=BASE) as client:
        answer = client.post(
            "/api/v1/subjects/alex/consents",
            json={"stream": POWER, "purpose": SAVING, "state": "given"},
            headers={"Authorization": f"Bearer {smart_home.operator_token}"},
        )
    assert answer.status_code == 201, answer.text
    (shared,) = answer.json()["shared"]
    assert (shared["agreed"], shared["concerned"], shared["complete"]) == (2, 2, True)
    assert shared["words"].startswith("Every resident of Flat 4 has agreed")
