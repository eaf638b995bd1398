"""Per-device X.509 client certificates from the deployment's own CA, for mutual TLS.

The CA (ECDSA P-256) lives in the key directory: `device-ca.key` (mode 0600, never leaves the
hub) and `device-ca.pem` (public: brokers and listeners trust it). A device certificate names
the device in its subject's common name, so a broker that takes the certificate's identity as
the username (Mosquitto's `use_identity_as_username`) applies the device's own ACL.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from goodthings.core.errors import DeploymentError
from goodthings.core.keys import read_secret, write_secret

CA_KEY = "device-ca.key"
CA_CERT = "device-ca.pem"
CA_YEARS = 10
DEVICE_DAYS = 397
"""Just over a year, so that certificates are renewed on a yearly rhythm."""


@dataclass(frozen=True)
class IssuedCertificate:
    device_id: str
    certificate_pem: bytes
    key_pem: bytes
    ca_pem: bytes
    serial: int
    not_after: datetime


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def ensure_ca(
    keys_dir: Path, name: str = "goodthings device CA"
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The deployment's device CA, created on first use."""
    key_path, cert_path = keys_dir / CA_KEY, keys_dir / CA_CERT
    if key_path.exists():
        key = serialization.load_pem_private_key(read_secret(key_path), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{key_path} is not an EC private key")
        return x509.load_pem_x509_certificate(cert_path.read_bytes()), key
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_secret(key_path, _private_pem(key))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key


def _issue(
    keys_dir: Path,
    common_name: str,
    usage: x509.ObjectIdentifier,
    days: int,
    addresses: tuple[str, ...] = (),
) -> IssuedCertificate:
    ca, ca_key = ensure_ca(keys_dir)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    not_after = now + timedelta(days=days)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if addresses:
        names: list[x509.GeneralName] = []
        for address in addresses:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(address)))
            except ValueError:
                names.append(x509.DNSName(address))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    certificate = builder.sign(ca_key, hashes.SHA256())
    return IssuedCertificate(
        common_name,
        certificate.public_bytes(serialization.Encoding.PEM),
        _private_pem(key),
        ca.public_bytes(serialization.Encoding.PEM),
        certificate.serial_number,
        not_after,
    )


def issue_device_certificate(
    keys_dir: Path, device_id: str, days: int = DEVICE_DAYS
) -> IssuedCertificate:
    """A client certificate whose common name is the device id."""
    return _issue(keys_dir, device_id, ExtendedKeyUsageOID.CLIENT_AUTH, days)


def issue_server_certificate(
    keys_dir: Path, host: str, addresses: tuple[str, ...] = ("127.0.0.1", "::1", "localhost")
) -> IssuedCertificate:
    """A server certificate for a TLS listener (a broker, the hub), signed by the same CA."""
    return _issue(
        keys_dir, host, ExtendedKeyUsageOID.SERVER_AUTH, DEVICE_DAYS, tuple({host, *addresses})
    )


def write_bundle(issued: IssuedCertificate, directory: Path) -> tuple[Path, Path, Path]:
    """`<id>.pem`, `<id>.key` (mode 0600) and `ca.pem` in `directory`; never overwrites a key."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / f"{issued.device_id}.key"
    cert_path = directory / f"{issued.device_id}.pem"
    ca_path = directory / "ca.pem"
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise DeploymentError(
            f"{key_path} already exists; goodthings never overwrites a key: choose another --out"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(issued.key_pem)
    cert_path.write_bytes(issued.certificate_pem)
    ca_path.write_bytes(issued.ca_pem)
    return cert_path, key_path, ca_path
