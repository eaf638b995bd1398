"""security.txt (RFC 9116) from the deployment's configuration, optionally OpenPGP-signed.

Every address in the file comes from the deployment's configured public address
(`goodthings deployment set public-url`), never from the request: a `Host` header is the
client's to choose, and a file that echoed it would hand a researcher's report to whoever sent
it. RFC 9116 §2.5.3 wants web contacts to be `https://` and §3 the file to be served over HTTPS,
so a public address of plain `http://` is refused unless it is the machine itself (a demo or a
test on localhost).

With `GOODTHINGS_SECURITY_TXT_KEY` naming the operator's OpenPGP secret key (an armored file,
without a passphrase, mode 0600), the file is served with an OpenPGP cleartext signature
(RFC 9116 §2.3, RFC 4880 §7), made by GnuPG (`gpg`) in a keyring of its own that lives only
while it signs, so the operator's own keyring is never touched.
"""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from goodthings.core.errors import GoodthingsError

__all__ = ["EXPIRES_AFTER", "SecurityTxtError", "address_problem", "build", "clearsign"]

EXPIRES_AFTER = timedelta(days=180)
"""RFC 9116 §2.5.5: Expires is required; less than a year ahead is recommended."""
_GPG_SECONDS = 30


class SecurityTxtError(GoodthingsError):
    """security.txt cannot be served as configured; the message says what to change."""


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address_problem(public_url: str) -> str | None:
    """Why security.txt cannot name `public_url` (RFC 9116 §2.5.3, §3), or None when it can."""
    parts = urlsplit(public_url)
    if parts.scheme == "https" or (parts.scheme == "http" and _is_local(parts.hostname or "")):
        return None
    return (
        f"the deployment's public address {public_url} is not https://; RFC 9116 asks for "
        "security.txt and its contact addresses over HTTPS. Set the address people reach the "
        "hub at with `goodthings deployment set public-url https://…`"
    )


def build(spec: dict[str, Any], public_url: str, now: datetime, languages: str = "en") -> str:
    """The file for the operator described by `spec` (the manifest's operator), reached at
    `public_url`. Expires is a whole day, so the file (and its signature) is stable for a day."""
    problem = address_problem(public_url)
    if problem is not None:
        raise SecurityTxtError(problem)
    disclosure = spec["vulnerability_disclosure"]
    contact = str(disclosure["contact"])
    if "@" in contact and not contact.startswith(("mailto:", "https:", "tel:")):
        contact = f"mailto:{contact}"  # RFC 9116 §2.5.3: Contact is a URI
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    expires = day + EXPIRES_AFTER
    base = public_url.rstrip("/")
    lines = [
        f"# Security contact for {spec.get('legal_name', 'this deployment')}; report problems here.",
        f"Contact: {contact}",
        f"Contact: {base}/security/report",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"Policy: {disclosure['policy_url']}",
        f"Preferred-Languages: {languages}",
        f"Canonical: {base}/.well-known/security.txt",
    ]
    return "\n".join(lines) + "\n"


def clearsign(text: str, key_file: Path) -> str:
    """`text` with an OpenPGP cleartext signature by the secret key in `key_file`."""
    try:
        changed = key_file.stat().st_mtime_ns
    except OSError as exc:
        raise SecurityTxtError(
            f"the security.txt signing key {key_file} cannot be read: {exc.strerror}"
        ) from None
    return _clearsign(text, key_file, changed)


@lru_cache(maxsize=8)
def _clearsign(text: str, key_file: Path, _changed: int) -> str:
    gpg, gpgconf = shutil.which("gpg"), shutil.which("gpgconf")
    if gpg is None or gpgconf is None:
        raise SecurityTxtError(
            "signing security.txt needs GnuPG (`gpg`), which is not installed; install it "
            "(Debian: apt install gnupg) or unset GOODTHINGS_SECURITY_TXT_KEY"
        )
    with tempfile.TemporaryDirectory(prefix="goodthings-gpg-") as keyring:
        try:
            return _sign_in(gpg, keyring, text, key_file)
        finally:
            # The agent GnuPG started for this keyring goes with it.
            subprocess.run(  # noqa: S603 - a located tool and our own arguments
                [gpgconf, "--homedir", keyring, "--kill", "gpg-agent"],
                capture_output=True,
                timeout=_GPG_SECONDS,
                check=False,
            )


def _sign_in(gpg: str, keyring: str, text: str, key_file: Path) -> str:
    base = [gpg, "--homedir", keyring, "--batch", "--no-tty", "--quiet"]
    imported = subprocess.run(  # noqa: S603 - a located tool and our own arguments
        [*base, "--import", str(key_file)],
        capture_output=True,
        timeout=_GPG_SECONDS,
        check=False,
    )
    if imported.returncode != 0:
        raise SecurityTxtError(
            f"GnuPG could not read the security.txt signing key {key_file}: "
            f"{imported.stderr.decode(errors='replace').strip()}"
        )
    signed = subprocess.run(  # noqa: S603 - a located tool and our own arguments
        [*base, "--pinentry-mode", "loopback", "--passphrase", "", "--clearsign"],
        input=text.encode(),
        capture_output=True,
        timeout=_GPG_SECONDS,
        check=False,
    )
    if signed.returncode != 0:
        raise SecurityTxtError(
            f"GnuPG could not sign security.txt with {key_file} (is it a secret key "
            f"without a passphrase?): {signed.stderr.decode(errors='replace').strip()}"
        )
    return signed.stdout.decode()
