"""What a person sees and chooses: everything the manifest says about their streams, their
readings, switches that the gate enforces, the history, and who used their data."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from goodthings.core.store import tables as t
from goodthings.runtime.hub import Hub
from portal_helpers import send, sign_in


def test_what_is_collected_lists_every_fact_of_each_stream(client: TestClient, hub: Hub) -> None:
    sign_in(client, hub, "alex")
    html = client.get("/portal").text
    for fact in (
        "Your heart rate, measured by the wristband",  # what
        "The wellbeing app shows your resting heart rate over the week.",  # how it is used
        "only if you agree",  # legal basis: consent
        "University of Manchester, Home Energy Study",  # recipient
        "Hourly totals only; never linked to your name; published only as averages.",  # terms
        "13 months",  # retention of power (P13M)
        "30 days",  # retention of heart_rate (P30D)
        "a profile of you is built",  # profiling
        "automatic decisions",  # automated decisions
        "What the readings can show together",  # inference from combined streams
        "about everyone who lives there",  # shared household stream
        "dpo@maplecourt.example",  # whom to address
        "The person accountable: Tom Okafor, Head of Tenant Services",
    ):
        assert fact in html, fact
    assert "does not need your agreement" in html  # PaymentManagement on contract: no switch


def test_a_person_sees_only_streams_about_them(client: TestClient, hub: Hub) -> None:
    sign_in(client, hub, "sam")
    html = client.get("/portal").text
    assert "Sam Rivera" in html
    assert "heart rate" not in html.lower(), "Alex's wristband is not about Sam"
    assert "How much electricity the flat is using" in html


def test_latest_readings_are_decrypted_for_the_person_with_a_chart(
    client: TestClient, hub: Hub
) -> None:
    csrf = sign_in(client, hub, "alex")
    client.post(
        "/portal/choices",
        data={
            "csrf": csrf,
            "stream": "pulse-band-2/heart_rate",
            "purpose": "ServicePersonalisation",
            "level": "exact",
        },
    )
    assert send(hub, "band-alex", "heart_rate", [61.5, 64.25, 67.75, 70.5]) == 4
    html = client.get("/portal").text
    assert "70.5 beats a minute" in html and "67.75 beats a minute" in html
    with hub.engine.connect() as connection:
        reads = (
            connection.execute(
                select(t.ledger_entries.c.counts).where(t.ledger_entries.c.action == "portal.read")
            )
            .scalars()
            .all()
        )
    assert reads == [{"readings": 4}], "decrypting for the person is recorded in the ledger"
    chart = re.search(r'<svg class="chart"[^>]*aria-label="([^"]+)"', html)
    assert chart is not None
    assert "between 61.5 beats a minute and 70.5 beats a minute" in chart.group(1)
    assert re.search(
        r"4 readings from \d\d \w{3} \d\d:\d\d to \d\d \w{3} \d\d:\d\d UTC", chart.group(1)
    )
    assert ">time (UTC)</text>" in html and ">70.5 beats a minute</text>" in html


def test_withdrawing_in_the_portal_stops_the_device_collecting(
    client: TestClient, hub: Hub
) -> None:
    csrf = sign_in(client, hub, "alex")
    choice = {
        "csrf": csrf,
        "stream": "pulse-band-2/heart_rate",
        "purpose": "ServicePersonalisation",
    }
    assert send(hub, "band-alex", "heart_rate", [60.0]) == 0, "off until agreed"
    client.post("/portal/choices", data={**choice, "level": "coarse"})
    policy = hub.pipeline.policies()["band-alex"].streams["heart_rate"]
    assert (policy.collect, policy.level) == (True, "coarse")
    assert send(hub, "band-alex", "heart_rate", [61.0, 62.0]) == 2
    client.post("/portal/choices", data={**choice, "level": "off"})
    assert hub.pipeline.policies()["band-alex"].streams["heart_rate"].collect is False
    assert send(hub, "band-alex", "heart_rate", [63.0, 64.0]) == 0


def test_stop_everything_withdraws_every_consent_and_share(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, hub, "alex")
    for stream, purpose, recipient in (
        ("pulse-band-2/heart_rate", "ServicePersonalisation", ""),
        ("pulse-band-2/steps", "ServicePersonalisation", ""),
        ("wattwise-m2/power", "ResearchAndDevelopment", ""),
        ("wattwise-m2/power", "ResearchAndDevelopment", "uni-energy-study"),
    ):
        answer = client.post(
            "/portal/choices",
            data={
                "csrf": csrf,
                "stream": stream,
                "purpose": purpose,
                "recipient": recipient,
                "level": "exact",
            },
        )
        assert answer.status_code == 200
    assert hub.pipeline.policies()["band-alex"].streams["steps"].collect
    assert client.post("/portal/stop", data={"csrf": csrf}).status_code == 200
    streams = hub.pipeline.policies()["band-alex"].streams
    assert not streams["heart_rate"].collect and not streams["steps"].collect
    with hub.engine.connect() as connection:
        states = connection.execute(
            select(t.consents.c.state, func.count()).group_by(t.consents.c.state)
        ).all()
    assert dict(states) == {"given": 4, "withdrawn": 4}


def test_a_choice_the_manifest_does_not_offer_is_refused(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, hub, "alex")
    answer = client.post(
        "/portal/choices",
        data={
            "csrf": csrf,
            "stream": "pulse-band-2/steps",
            "purpose": "ServicePersonalisation",
            "level": "coarse",
        },
    )
    assert answer.status_code == 422
    assert "exact, aggregate, off" in answer.text


def test_history_shows_time_notice_version_and_a_receipt_per_choice(
    client: TestClient, hub: Hub
) -> None:
    csrf = sign_in(client, hub, "alex")
    choice = {
        "csrf": csrf,
        "stream": "pulse-band-2/heart_rate",
        "purpose": "ServicePersonalisation",
    }
    client.post("/portal/choices", data={**choice, "level": "aggregate"})
    client.post("/portal/choices", data={**choice, "level": "off"})
    html = client.get("/portal/history").text
    with hub.engine.connect() as connection:
        notices = connection.execute(select(t.consents.c.notice_hash)).scalars().all()
    assert len(notices) == 2 and notices[0] is not None
    assert html.count(f"<code>{notices[0][:12]}</code>") == 2
    assert "Withdrawn" in html and "Agreed (only totals or averages)" in html
    assert "Your heart rate, measured by the wristband, to adjust the service to suit you" in html
    receipts = re.findall(r'href="(/portal/receipts/[^"]+\.json)"', html)
    assert len(receipts) == 2
    document = client.get(receipts[0])
    assert document.headers["content-type"] == "application/json"
    assert '"dpv:ConsentWithdrawn"' in document.text
    # How to withdraw: the portal, at the deployment's public address.
    assert '"dpv:isExercisedAt": {\n' in document.text
    assert '"@id": "http://127.0.0.1:8080/portal"' in document.text


def test_a_person_cannot_fetch_someone_elses_receipt(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, hub, "alex")
    client.post(
        "/portal/choices",
        data={
            "csrf": csrf,
            "stream": "pulse-band-2/heart_rate",
            "purpose": "ServicePersonalisation",
            "level": "exact",
        },
    )
    alex_receipt = re.findall(
        r'href="(/portal/receipts/[^"]+\.json)"', client.get("/portal/history").text
    )[0]
    client.cookies.clear()
    sign_in(client, hub, "sam")
    assert client.get(alex_receipt).status_code == 404


def test_who_used_my_data_lists_collection_and_choices_from_the_ledger(
    client: TestClient, hub: Hub
) -> None:
    csrf = sign_in(client, hub, "alex")
    client.post(
        "/portal/choices",
        data={
            "csrf": csrf,
            "stream": "pulse-band-2/heart_rate",
            "purpose": "ServicePersonalisation",
            "level": "exact",
        },
    )
    send(hub, "band-alex", "heart_rate", [70.0, 71.0, 72.0])
    send(hub, "thermostat-1", "temperature", [21.0])
    html = client.get("/portal/activity").text
    assert "Alex&#39;s wristband" not in html, "arrivals are counted per day, not named"
    assert "Readings arrived from a device" in html and "4 received, 4 kept" in html
    assert "A choice was switched on" in html
    send(hub, "band-alex", "steps", [5.0])  # no consent for steps: counted, not kept
    html = client.get("/portal/activity").text
    assert "1 not kept (not agreed to), 5 received, 4 kept" in html
    assert "You signed in to this portal" in html
    sign_in(client, hub, "sam")
    sams = client.get("/portal/activity").text
    assert "band-alex" not in sams, "Alex's wristband is not about Sam"


def test_every_page_has_a_plain_text_title(client: TestClient, hub: Hub) -> None:
    sign_in(client, hub, "alex")
    for path in (
        "/portal",
        "/portal/history",
        "/portal/activity",
        "/portal/export",
        "/portal/erase",
    ):
        html = client.get(path).text
        title = re.search(r"<title>(.*?)</title>", html, re.DOTALL)
        assert title is not None, path
        assert "<" not in title.group(1), f"{path}: markup in the title: {title.group(1)[:80]}"
        assert html.count("Optional: hold your own key") <= 1, path
