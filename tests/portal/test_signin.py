"""Signing in: one-time links and codes, stored hashed, expiring; sessions, CSRF, rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from goodthings.core.store import tables_portal as tp
from goodthings.rights import signin
from goodthings.runtime.hub import Hub
from goodthings.web._portal_common import SignInLimiter
from portal_helpers import BASE, csrf_of, invite, sign_in


def _use_link(client: TestClient, link: str) -> int:
    path = link.removeprefix(BASE)
    page = client.get(path)
    return client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False).status_code


def test_a_link_signs_in_once_and_only_once(client: TestClient, hub: Hub) -> None:
    made = invite(hub, "alex")
    assert _use_link(client, made.link) == 303
    assert "What we collect about you, Alex Rivera" in client.get("/portal").text
    client.cookies.clear()
    assert _use_link(client, made.link) == 400
    assert "Your code" in client.get("/portal").text


def test_following_a_link_does_not_use_it_up(client: TestClient, hub: Hub) -> None:
    """Mail scanners open links; only the button press signs in."""
    made = invite(hub, "alex")
    for _ in range(3):
        assert client.get(made.link.removeprefix(BASE)).status_code == 200
    assert _use_link(client, made.link) == 303


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{nodash}", " {code} "])
def test_the_short_code_signs_in_however_it_is_typed(
    client: TestClient, hub: Hub, typed: str
) -> None:
    made = invite(hub, "sam")
    entry = typed.format(code=made.code, lower=made.code.lower(), nodash=made.code.replace("-", ""))
    page = client.get("/portal")
    answer = client.post(
        "/portal/sign-in", data={"code": entry, "csrf": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303
    assert "What we collect about you, Sam Rivera" in client.get("/portal").text


def test_an_expired_link_does_not_work(client: TestClient, hub: Hub) -> None:
    made = invite(hub, "alex", hours=-1)
    assert _use_link(client, made.link) == 400


def test_links_codes_and_sessions_are_stored_only_as_hashes(client: TestClient, hub: Hub) -> None:
    made = invite(hub, "alex")
    sign_in(client, hub, "alex")
    session = client.cookies.get("gt_portal")
    assert session
    with hub.engine.connect() as connection:
        stored = [
            str(value)
            for table in (tp.portal_invites, tp.portal_sessions)
            for row in connection.execute(select(table))
            for value in row
        ]
    token = made.link.rsplit("/", 1)[1]
    for secret in (token, made.code, made.code.replace("-", ""), session):
        assert not any(secret in value for value in stored)


def test_the_session_cookie_is_secure_httponly_and_strict(client: TestClient, hub: Hub) -> None:
    made = invite(hub, "alex")
    path = made.link.removeprefix(BASE)
    page = client.get(path)
    answer = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("gt_portal="))
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/portal"):
        assert flag in cookie
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Cache-Control"] == "no-store"


def test_sign_in_without_the_form_token_is_refused(client: TestClient, hub: Hub) -> None:
    made = invite(hub, "alex")
    path = made.link.removeprefix(BASE)
    client.get(path)
    assert client.post(path, data={"csrf": "forged"}).status_code == 403
    assert _use_link(client, made.link) == 303, "a refused attempt does not use the link up"


def test_sign_in_attempts_are_rate_limited(client: TestClient, hub: Hub) -> None:
    csrf = csrf_of(client.get("/portal").text)
    codes = [
        client.post("/portal/sign-in", data={"code": f"WRONG{i:03}", "csrf": csrf}).status_code
        for i in range(12)
    ]
    assert codes[:10] == [400] * 10
    assert codes[10:] == [429, 429]
    made = invite(hub, "alex")
    limited = client.post("/portal/sign-in", data={"code": made.code, "csrf": csrf})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


POSTS = [
    ("/portal/choices", {"stream": "heart_rate", "purpose": "ServicePersonalisation"}),
    ("/portal/stop", {}),
    ("/portal/export", {}),
    ("/portal/recipient", {"age_key": ""}),
    ("/portal/hold-key", {"confirm": "yes"}),
    ("/portal/erase", {"confirm": "yes"}),
    ("/portal/sign-out", {}),
]


@pytest.mark.parametrize(("path", "fields"), POSTS, ids=[p for p, _ in POSTS])
def test_every_form_refuses_a_request_without_its_csrf_token(
    client: TestClient, hub: Hub, path: str, fields: dict[str, str]
) -> None:
    csrf = sign_in(client, hub, "alex")
    for forged in ("", "0" * 64, csrf[:-1] + ("0" if csrf[-1] != "0" else "1")):
        assert client.post(path, data={**fields, "csrf": forged}).status_code == 403
    with hub.engine.connect() as connection:
        actions = set(connection.execute(text("select action from ledger_entries")).scalars())
    assert not actions & {
        "consent.withdraw",
        "erase.request",
        "export",
        "portal.sign_out",
        "portal.recipient",
        "keys.held",
    }
    assert "What we collect" in client.get("/portal").text, "still signed in"


@pytest.mark.parametrize(
    "path", ["/portal/history", "/portal/activity", "/portal/export", "/portal/erase"]
)
def test_pages_send_strangers_to_sign_in(client: TestClient, path: str) -> None:
    answer = client.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/portal"


def test_signing_out_ends_the_session(client: TestClient, hub: Hub) -> None:
    csrf = sign_in(client, hub, "alex")
    session = client.cookies.get("gt_portal")
    assert client.post("/portal/sign-out", data={"csrf": csrf}).status_code == 200
    client.cookies.set("gt_portal", session or "", domain="testserver", path="/portal")
    assert "Your code" in client.get("/portal").text, "the old cookie no longer works"


def test_inviting_an_unknown_person_is_refused(hub: Hub) -> None:
    with hub.engine.begin() as connection, pytest.raises(signin.SignInError, match="no subject"):
        signin.issue_invite(connection, "nobody", BASE, timedelta(hours=1))


def test_many_addresses_guessing_together_are_slowed_down_too() -> None:
    limiter = SignInLimiter()
    answers = [limiter.allow(f"10.0.{i // 250}.{i % 250}") for i in range(70)]
    assert answers[:60] == [0.0] * 60, "each address is new, so only the shared limit applies"
    assert all(wait > 0 for wait in answers[60:])
