"""`serve --mqtt mqtts://…` with a broker whose certificate comes from a private CA."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from brokers import TlsFiles, mosquitto
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.runtime import Hub, MqttIngest
from goodthings.security.certificates import issue_server_certificate, write_bundle
from templates import init_from_template


@pytest.fixture
def private_ca(tmp_path: Path) -> TlsFiles:
    keys = tmp_path / "ca-keys"
    keys.mkdir(mode=0o700)
    cert, key, ca = write_bundle(issue_server_certificate(keys, "127.0.0.1"), tmp_path / "server")
    return TlsFiles(ca, cert, key)


def test_serve_without_the_ca_says_so_in_one_line_and_exits_1(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path, private_ca: TlsFiles
) -> None:
    init_from_template(home, "smart-home")
    with mosquitto(tmp_path, tls=private_ca, client_certificates=False) as broker:
        url = f"mqtts://127.0.0.1:{broker.tls_port}"
        ran = run(capsys, "serve", "--home", str(home.root), "--mqtt", url, "--port", "0")
    assert ran.code == 1
    assert "Traceback" not in ran.err + ran.out
    [line] = ran.err.strip().splitlines()
    assert line.startswith(f"error: MQTT broker {url}: the broker's TLS certificate")
    assert "--mqtt-ca" in line


def test_serve_with_a_ca_file_that_is_no_certificate_is_refused(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    init_from_template(home, "smart-home")
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    for ca in (bogus, tmp_path / "missing.pem"):
        ran = run(
            capsys, "serve", "--home", str(home.root), "--mqtt", "mqtts://127.0.0.1:1",
            "--mqtt-ca", str(ca),
        )  # fmt: skip
        assert ran.code == 1 and "Traceback" not in ran.err
        assert f"the broker's CA {ca}: not a readable PEM file of CA certificates" in ran.err


def test_the_hub_joins_a_tls_broker_it_is_given_the_ca_of(
    home: Home, tmp_path: Path, private_ca: TlsFiles
) -> None:
    init_from_template(home, "smart-home")
    with mosquitto(tmp_path, tls=private_ca, client_certificates=False) as broker:
        settings = home.settings.model_copy(
            update={
                "mqtt_url": f"mqtts://127.0.0.1:{broker.tls_port}",
                "mqtt_ca": private_ca.cafile,
            }
        )
        hub = Hub.open(replace(home, settings=settings))
        try:
            with MqttIngest(hub) as mqtt:
                assert mqtt.address is not None and mqtt.address.tls
        finally:
            hub.close()
