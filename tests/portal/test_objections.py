"""Objecting in the portal: a form with CSRF, the same record as the CLI's, and at once no
application that profiles or decides by computer receives the stream."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from goodthings.rights import objections
from goodthings.rights.access import Grant, ReadingsQuery, read_readings
from goodthings.runtime.hub import Hub
from portal_helpers import give, send, sign_in

HEART = "pulse-band-2/heart_rate"


def _wellbeing_reads(hub: Hub) -> int:
    grant = Grant("wellbeing", ("ServicePersonalisation",), time.time() + 300)
    query = ReadingsQuery("heart_rate", "ServicePersonalisation")
    return len(read_readings(hub.engine, hub.keyring, hub.signer, grant, query).readings)


def test_objecting_in_the_portal_stops_the_profiling_applications_reads(
    client: TestClient, hub: Hub
) -> None:
    give(hub, ("alex", HEART, "ServicePersonalisation"))
    send(hub, "band-alex", "heart_rate", [60.0, 61.0])
    assert _wellbeing_reads(hub) == 2
    csrf = sign_in(client, hub, "alex")
    page = client.get("/portal").text
    assert "Wellbeing app uses it this way" in page and "I object" in page
    answer = client.post("/portal/objections", data={"csrf": csrf, "stream": HEART})
    assert answer.status_code == 200 and "You object" in answer.text
    assert _wellbeing_reads(hub) == 0
    with hub.engine.connect() as connection:
        [made] = objections.history(connection, "alex")
    assert (made.stream, made.state) == (HEART, "objected")
    activity = client.get("/portal/activity").text
    assert "An objection to decisions made by computer was recorded" in activity

    taken_back = client.post(
        "/portal/objections", data={"csrf": csrf, "stream": HEART, "withdraw": "yes"}
    )
    assert "I object" in taken_back.text
    assert _wellbeing_reads(hub) == 2


def test_an_objection_without_the_forms_token_is_refused(client: TestClient, hub: Hub) -> None:
    sign_in(client, hub, "alex")
    for token in ("", "forged"):
        answer = client.post("/portal/objections", data={"csrf": token, "stream": HEART})
        assert answer.status_code == 403
    with hub.engine.connect() as connection:
        assert objections.history(connection, "alex") == []


def test_nobody_objects_for_a_stream_that_is_not_about_them(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, hub, "sam")
    answer = client.post("/portal/objections", data={"csrf": csrf, "stream": HEART})
    assert answer.status_code == 422 and "is not concerned by" in answer.text
    with hub.engine.connect() as connection:
        assert objections.history(connection, "sam") == []


def test_streams_nobody_uses_by_computer_offer_no_objection(client: TestClient, hub: Hub) -> None:
    sign_in(client, hub, "sam")
    page = client.get("/portal").text
    power = page[page.index('id="stream-wattwise-m2-power"') :]
    power = power[: power.index("</section>")]
    assert "I object" not in power and "Decisions made by computer" not in power
