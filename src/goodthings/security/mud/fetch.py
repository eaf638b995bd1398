"""Fetching a model's MUD file from its `mud_url` (RFC 8520), with its signature when it has one.

What is asked of the file and of the fetch, and why:

* The URL is `https://` (RFC 8520: a MUD URL MUST use it) and the server's certificate is
  checked (the system's CAs, or the one `ca` names); a redirect is not followed but reported,
  so that the operator sees where the maker moved the file.
* At most `MAX_FILE` bytes in `TIMEOUT` seconds per request, however slowly it drips: a MUD file is a few kilobytes, and
  the hub must not be made to read a stream for ever.
* The file passes `check_mud`, and its own `mud-url` is the address it came from (the URL
  is the file's identity; a file claiming another is someone else's).
* When the file names a `mud-signature`, the signature (a detached CMS signature in DER,
  §13) is fetched the same way and verified over the exact bytes received, against the signer's
  CA the operator gives (`signer_ca`): the maker publishes its signing certificate, and a MUD
  manager trusts only the signers it was told to (§13.2). The check is OpenSSL's `cms
  -verify` (Debian's `openssl`): the `cryptography` library signs CMS but does not verify it.
* An unsigned file is taken only when the operator says so (`unsigned_ok`): anyone who can
  change it on the way or on the server changes what the gateway lets the device reach.
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
from cryptography import x509

from goodthings.core.errors import GoodthingsError
from goodthings.security.mud.check import MudError, MudFile, check_mud

MUD_FOLDER = "mud"
"""Where `goodthings mud fetch` keeps a model's MUD file in the deployment (`mud/MODEL.json`)."""

MAX_FILE = 256 * 1024
TIMEOUT = 10.0
_MUD = "ietf-mud:mud"


class MudFetchError(GoodthingsError):
    """A MUD file or its signature that could not be fetched or trusted; says which and why."""


@dataclass(frozen=True)
class Fetched:
    mud: MudFile
    content: bytes
    """The file exactly as served (the signature covers these bytes)."""
    signature: bytes | None
    signer: str | None
    """The signing certificate's subject, when the file was signed."""


def fetch_mud(
    url: str,
    *,
    ca: Path | None = None,
    signer_ca: Path | None = None,
    unsigned_ok: bool = False,
    timeout: float = TIMEOUT,
    max_bytes: int = MAX_FILE,
) -> Fetched:
    """The MUD file at `url`, checked, with its verified signature (or none, if allowed)."""
    verify = _tls(ca)
    content = _get(url, "the MUD file", verify, timeout, max_bytes)
    try:
        data = json.loads(content)
    except ValueError as error:
        raise MudFetchError(f"{url}: the MUD file is not JSON ({error})") from None
    mud = check_mud(data, url)
    if mud.url != url:
        raise MudError(
            url, [f"$['{_MUD}'].mud-url: is {mud.url!r}, not the address it was fetched from"]
        )
    where = data[_MUD].get("mud-signature")
    if where is None:
        if not unsigned_ok:
            raise MudFetchError(
                f"{url}: the MUD file is not signed (it names no mud-signature). Take it only "
                "if you trust the server and the way to it: add --unsigned"
            )
        return Fetched(mud, content, None, None)
    if not isinstance(where, str) or urlsplit(where).scheme != "https":
        raise MudError(url, [f"$['{_MUD}'].mud-signature: must be an https:// address"])
    if signer_ca is None:
        raise MudFetchError(
            f"{url}: the MUD file is signed ({where}); give the maker's signing certificate "
            "or its CA with --signer-ca FILE (PEM) so the signature can be checked"
        )
    signature = _get(where, "the MUD file's signature", verify, timeout, max_bytes)
    signer = verify_signature(content, signature, signer_ca, what=where)
    return Fetched(mud, content, signature, signer)


def verify_signature(content: bytes, signature: bytes, signer_ca: Path, *, what: str) -> str:
    """Verify a detached DER CMS signature over `content`; the signer's subject if it holds."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise MudFetchError(
            "checking a MUD signature needs OpenSSL's command (Debian: apt-get install openssl)"
        )
    with tempfile.TemporaryDirectory(prefix="goodthings-mud-") as scratch:
        folder = Path(scratch)
        (folder / "mud.json").write_bytes(content)
        (folder / "mud.p7s").write_bytes(signature)
        signers = folder / "signers.pem"
        verified = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [
                openssl,
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                str(folder / "mud.p7s"),
                "-content",
                str(folder / "mud.json"),
                "-CAfile",
                str(signer_ca),
                "-purpose",
                "any",
                "-signer",
                str(signers),
                "-out",
                str(folder / "out"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if verified.returncode != 0:
            reason = verified.stderr.strip().splitlines()
            raise MudFetchError(
                f"{what}: the signature does not hold for this MUD file with the signer CA "
                f"{signer_ca} ({reason[-1] if reason else 'openssl cms refused it'})"
            )
        certificate = x509.load_pem_x509_certificate(signers.read_bytes())
        return certificate.subject.rfc4514_string()


def _tls(ca: Path | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=str(ca) if ca is not None else None)
    except (OSError, ssl.SSLError) as error:
        raise MudFetchError(f"--ca {ca}: not a readable PEM certificate ({error})") from None


def _get(url: str, what: str, verify: ssl.SSLContext, timeout: float, limit: int) -> bytes:
    if urlsplit(url).scheme != "https":
        raise MudFetchError(f"{url}: {what} must be fetched over https:// (RFC 8520)")
    try:
        with (
            httpx2.Client(verify=verify, timeout=timeout, trust_env=False) as client,
            client.stream("GET", url) as response,
        ):
            if response.is_redirect:
                raise MudFetchError(
                    f"{url}: {what} has moved to {response.headers.get('location')!r}; "
                    "check the new address and put it in the model's mud_url"
                )
            if response.status_code != 200:
                raise MudFetchError(
                    f"{url}: {what} could not be fetched (HTTP {response.status_code})"
                )
            body = bytearray()
            deadline = time.monotonic() + timeout
            for chunk in response.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:
                    raise httpx2.ReadTimeout("too slow")
                if len(body) > limit:
                    raise MudFetchError(
                        f"{url}: {what} is larger than {limit // 1024} KiB; a MUD file is a few "
                        "kilobytes, so this is not one"
                    )
            return bytes(body)
    except httpx2.TimeoutException:
        raise MudFetchError(f"{url}: {what} did not arrive within {timeout:g} s") from None
    except httpx2.HTTPError as error:
        raise MudFetchError(f"{url}: {what} could not be fetched ({error})") from None
