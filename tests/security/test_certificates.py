"""Per-device client certificates from the deployment's CA, and mutual TLS on a real Mosquitto."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from brokers import TlsFiles, mosquitto
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.security.broker_acl import DynamicSecurity
from goodthings.security.certificates import (
    CA_KEY,
    issue_device_certificate,
    issue_server_certificate,
    write_bundle,
)
from mqtt_peers import Peer
from templates import init_from_template


def test_device_cert_command_writes_a_private_key_and_a_certificate_naming_the_device(
    capsys: pytest.CaptureFixture[str], home: Home, tmp_path: Path
) -> None:
    init_from_template(home, "smart-home")
    out_dir = tmp_path / "meter-1-tls"
    ran = run(capsys, "device", "cert", "meter-1", "--out", str(out_dir), "--home", str(home.root))
    assert ran.code == 0, ran.err
    key = out_dir / "meter-1.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((home.keys_dir / CA_KEY).stat().st_mode) == 0o600
    certificate = x509.load_pem_x509_certificate((out_dir / "meter-1.pem").read_bytes())
    ca = x509.load_pem_x509_certificate((out_dir / "ca.pem").read_bytes())
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "meter-1"
    assert certificate.issuer == ca.subject
    certificate.verify_directly_issued_by(ca)
    usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    again = run(
        capsys, "device", "cert", "meter-1", "--out", str(out_dir), "--home", str(home.root)
    )
    assert again.code == 1 and "never overwrites a key" in again.err
    unknown = run(
        capsys, "device", "cert", "toaster", "--out", str(tmp_path / "t"), "--home", str(home.root)
    )
    assert unknown.code == 1 and "there is no device 'toaster'" in unknown.err


def _context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert is not None and key is not None:
        context.load_cert_chain(str(cert), str(key))
    return context


def test_mutual_tls_on_mosquitto(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    server_cert, server_key, ca = write_bundle(
        issue_server_certificate(keys, "127.0.0.1"), tmp_path / "server"
    )
    meter_cert, meter_key, _ = write_bundle(
        issue_device_certificate(keys, "meter-1"), tmp_path / "m"
    )
    # Signed by our CA, but no broker client was provisioned for it.
    stray_cert, stray_key, _ = write_bundle(issue_device_certificate(keys, "stray"), tmp_path / "s")
    # A device certificate from some other CA.
    other_keys = tmp_path / "other-keys"
    other_keys.mkdir(mode=0o700)
    forged_cert, forged_key, _ = write_bundle(
        issue_device_certificate(other_keys, "meter-1"), tmp_path / "f"
    )
    files = TlsFiles(ca, server_cert, server_key)
    with mosquitto(tmp_path, dynamic_security=True, tls=files) as broker:
        with DynamicSecurity(broker.host, broker.port, "admin", str(broker.admin_password)) as ds:
            ds.lock_down()
            ds.provision_device("meter-1", "Quiet-Marmot-Juggles-47")
        assert broker.tls_port is not None

        def peer(context: ssl.SSLContext) -> Peer:
            return Peer(broker.host, int(broker.tls_port or 0), None, None, tls=context)

        with peer(_context(ca, meter_cert, meter_key)) as device:
            assert device.connect()  # the certificate is the credential: username = its CN
            assert device.publish("gt/meter-1/up", b"over mutual TLS")
            assert not device.subscribe("gt/thermostat-1/policy")  # the device's own ACL applies
        with peer(_context(ca)) as anonymous:
            assert not anonymous.connect()  # no client certificate: the handshake fails
        with peer(_context(ca, forged_cert, forged_key)) as forged:
            assert not forged.connect()  # a certificate from another CA
        with peer(_context(ca, stray_cert, stray_key)) as stray:
            # Our CA but no broker client: Mosquitto lets the identity in (the certificate is
            # its authentication), and the locked-down default access leaves it no rights.
            assert stray.connect()
            assert not stray.publish("gt/stray/up", b"x")
            assert not stray.subscribe("gt/stray/policy") and not stray.subscribe("#")
