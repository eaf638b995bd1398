"""security.txt is built from the deployment's configuration, never from the request.

A hostile `Host` header must not reach the file; a public address of plain http:// (other than
the machine itself) is refused, as RFC 9116 asks for HTTPS; the OpenPGP-signed variant
(RFC 9116 §2.3) is signed by GnuPG and checked here by Sequoia's `sqop`, an independent
OpenPGP implementation.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from debian import installed
from goodthings.core.config import Home
from goodthings.security.securitytxt import address_problem
from goodthings.web.app import create_app
from templates import init_from_template

PUBLIC = "https://hub.maplecourt.example"


def _client(home: Home, **settings: object) -> TestClient:
    configured = dataclasses.replace(home, settings=home.settings.model_copy(update=settings))
    return TestClient(create_app(configured))


@pytest.fixture
def deployment(home: Home) -> Home:
    init_from_template(home, "smart-home")
    return home


@pytest.fixture
def client(deployment: Home) -> Iterator[TestClient]:
    with _client(deployment, public_url=PUBLIC) as client:
        yield client


@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:443", "hub.maplecourt.example.evil.example", "[::1]"],
)
def test_a_hostile_host_header_does_not_reach_the_file(client: TestClient, host: str) -> None:
    response = client.get("/.well-known/security.txt", headers={"Host": host})
    assert response.status_code == 200
    assert "evil" not in response.text and "::1" not in response.text
    assert f"Contact: {PUBLIC}/security/report\n" in response.text
    assert f"Canonical: {PUBLIC}/.well-known/security.txt\n" in response.text


@pytest.mark.parametrize(
    ("address", "refused"),
    [
        ("https://hub.example", False),
        ("http://127.0.0.1:8080", False),
        ("http://localhost:8080", False),
        ("http://[::1]:8080", False),
        ("http://hub.example", True),
        ("http://localhost.evil.example", True),
        ("http://127.0.0.1.evil.example", True),
        ("http://192.168.1.10:8080", True),
    ],
)
def test_only_https_or_the_machine_itself_is_a_public_address(address: str, refused: bool) -> None:
    assert (address_problem(address) is not None) == refused


def test_a_plain_http_public_address_is_refused_with_a_clear_reason(
    deployment: Home, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, "goodthings.web.security"),
        _client(deployment, public_url="http://hub.maplecourt.example") as client,
    ):
        response = client.get("/.well-known/security.txt")
    assert response.status_code == 503
    assert "Contact:" not in response.text
    assert "is not https://" in caplog.text
    assert "goodthings deployment set public-url https://" in caplog.text


def _gpg(homedir: Path, *args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(
        ["gpg", "--homedir", str(homedir), "--batch", "--quiet", *args],
        input=stdin,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, f"gpg {' '.join(args)}: {done.stderr.decode(errors='replace')}"
    return done.stdout


@pytest.fixture
def operator_key(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The operator's OpenPGP key, made for the test: (secret key file, certificate file)."""
    installed("gpg", "gnupg")
    installed("sqop", "sqop")
    # Short, in /tmp: gpg-agent's sockets live in the home directory, and a socket's path may
    # not reach 107 bytes (pytest's tmp_path did once its run counter had three digits).
    homedir = Path(tempfile.mkdtemp(prefix="gt-gpg-", dir="/tmp"))
    try:
        _gpg(
            homedir, "--passphrase", "", "--quick-gen-key", "security@maplecourt.example", "ed25519"
        )
        secret, cert = tmp_path / "security-txt.key", tmp_path / "security-txt.pub"
        secret.write_bytes(_gpg(homedir, "--armor", "--export-secret-keys"))
        cert.write_bytes(_gpg(homedir, "--armor", "--export"))
        yield secret, cert
    finally:
        subprocess.run(["gpgconf", "--homedir", str(homedir), "--kill", "gpg-agent"], check=False)
        shutil.rmtree(homedir, ignore_errors=True)


def _sqop_verify(cert: Path, signed: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["sqop", "inline-verify", str(cert)], input=signed.encode(), capture_output=True
    )


def test_the_signed_variant_verifies_with_an_independent_openpgp_tool(
    deployment: Home, operator_key: tuple[Path, Path]
) -> None:
    secret, cert = operator_key
    with _client(deployment, public_url=PUBLIC, security_txt_key=secret) as client:
        response = client.get("/.well-known/security.txt", headers={"Host": "evil.example"})
        again = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    signed = response.text
    assert signed.startswith("-----BEGIN PGP SIGNED MESSAGE-----\nHash: ")
    assert again.text == signed  # signed once a day, not per request
    checked = _sqop_verify(cert, signed)
    assert checked.returncode == 0, checked.stderr
    message = checked.stdout.decode()
    assert f"Contact: {PUBLIC}/security/report" in message and "evil" not in message
    forged = signed.replace(f"Contact: {PUBLIC}/security/report", "Contact: https://evil.example/")
    assert _sqop_verify(cert, forged).returncode != 0


def test_an_unreadable_signing_key_is_refused_without_telling_the_public_where_it_is(
    deployment: Home, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such.key"
    with (
        caplog.at_level(logging.WARNING, "goodthings.web.security"),
        _client(deployment, public_url=PUBLIC, security_txt_key=missing) as client,
    ):
        response = client.get("/.well-known/security.txt")
    assert response.status_code == 503
    assert str(missing) not in response.text
    assert f"signing key {missing} cannot be read" in caplog.text
