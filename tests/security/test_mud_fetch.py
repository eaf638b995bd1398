"""`goodthings mud fetch MODEL`: a model's MUD file fetched over HTTPS from a server on
127.0.0.1, its CMS signature checked against the signer's CA, and every way it can go wrong
refused with a sentence that names the address and the reason."""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from cli_helpers import Ran, run
from goodthings.core.config import Home
from goodthings.security.certificates import (
    issue_device_certificate,
    issue_server_certificate,
    write_bundle,
)
from goodthings.security.mud import MudError, MudFetchError, fetch_mud
from templates import init_from_template

DOOR = Path(__file__).parent / "data" / "mud" / "door-contact.json"
MODEL = "wattwise-m2"
EXAMPLE_URL = "https://wattwise.example/mud/m2.json"


@dataclass
class Site:
    """An HTTPS server on 127.0.0.1 answering `pages` (path -> (status, headers, body))."""

    base: str
    ca: Path
    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    slow: set[str] = field(default_factory=set)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    keys = tmp_path / "web-ca"
    keys.mkdir(mode=0o700)
    cert, key, ca = write_bundle(issue_server_certificate(keys, "127.0.0.1"), tmp_path / "web")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    found = Site("", ca)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = found.pages.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in found.slow:
                for byte in body:  # a byte a second: each read is quick, the whole is not
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(1.0)
                return
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, *_args: object) -> None:
            pass  # a client refusing our certificate is one of the tests

    server = Server(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    found.base = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()
    server.server_close()


def _signer(tmp_path: Path, name: str) -> tuple[x509.Certificate, object, Path]:
    keys = tmp_path / f"{name}-ca"
    keys.mkdir(mode=0o700)
    issued = issue_device_certificate(keys, name)
    cert_path, key_path, ca_path = write_bundle(issued, tmp_path / name)
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return certificate, key, ca_path


def _sign(content: bytes, certificate: x509.Certificate, key: object) -> bytes:
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
    builder = builder.add_signer(certificate, key, hashes.SHA256())  # type: ignore[arg-type]
    return builder.sign(serialization.Encoding.DER, options)


def _publish(site: Site, *, signed: bool = True) -> bytes:
    data = json.loads(DOOR.read_text())
    data["ietf-mud:mud"]["mud-url"] = f"{site.base}/mud/m2.json"
    if signed:
        data["ietf-mud:mud"]["mud-signature"] = f"{site.base}/mud/m2.p7s"
    content = json.dumps(data, indent=2).encode()
    site.pages["/mud/m2.json"] = (200, {"Content-Type": "application/mud+json"}, content)
    return content


def _deployment(home: Home, site: Site) -> None:
    init_from_template(home, "smart-home")
    text = home.manifest_path.read_text()
    assert EXAMPLE_URL in text
    home.manifest_path.write_text(text.replace(EXAMPLE_URL, f"{site.base}/mud/m2.json"))


def _fetch(capsys: pytest.CaptureFixture[str], home: Home, *options: str) -> Ran:
    return run(capsys, "mud", "fetch", MODEL, "--home", str(home.root), *options)


def test_a_signed_file_is_fetched_verified_and_kept(
    capsys: pytest.CaptureFixture[str], home: Home, site: Site, tmp_path: Path
) -> None:
    _deployment(home, site)
    content = _publish(site)
    certificate, key, signer_ca = _signer(tmp_path, "opensense-mud-signer")
    site.pages["/mud/m2.p7s"] = (200, {}, _sign(content, certificate, key))
    ran = _fetch(capsys, home, "--ca", str(site.ca), "--signer-ca", str(signer_ca))
    assert ran.code == 0, ran.err
    assert "Signed by CN=opensense-mud-signer" in ran.out and "the signature holds" in ran.out
    assert "the device may talk to cloud.opensense.example over TCP port 443" in ran.out
    kept = home.root / "mud" / f"{MODEL}.json"
    assert kept.read_bytes() == content
    assert kept.with_suffix(".p7s").exists()
    # The kept file is what `mud check` and `mud nft` take.
    assert run(capsys, "mud", "check", str(kept)).code == 0


def test_a_signature_by_another_signer_or_over_other_bytes_is_refused(
    home: Home, site: Site, tmp_path: Path
) -> None:
    content = _publish(site)
    url = f"{site.base}/mud/m2.json"
    certificate, key, signer_ca = _signer(tmp_path, "opensense-mud-signer")
    stranger, stranger_key, _ = _signer(tmp_path, "someone-else")
    site.pages["/mud/m2.p7s"] = (200, {}, _sign(content, stranger, stranger_key))
    with pytest.raises(MudFetchError, match="the signature does not hold"):
        fetch_mud(url, ca=site.ca, signer_ca=signer_ca)
    site.pages["/mud/m2.p7s"] = (200, {}, _sign(content + b" ", certificate, key))
    with pytest.raises(MudFetchError, match="the signature does not hold"):
        fetch_mud(url, ca=site.ca, signer_ca=signer_ca)
    with pytest.raises(MudFetchError, match="give the maker's signing certificate"):
        fetch_mud(url, ca=site.ca)


def test_an_unsigned_file_needs_the_operator_s_word(
    capsys: pytest.CaptureFixture[str], home: Home, site: Site
) -> None:
    _deployment(home, site)
    _publish(site, signed=False)
    refused = _fetch(capsys, home, "--ca", str(site.ca))
    assert refused.code == 1
    assert "is not signed" in refused.err and "--unsigned" in refused.err
    assert not (home.root / "mud" / f"{MODEL}.json").exists()
    taken = _fetch(capsys, home, "--ca", str(site.ca), "--unsigned")
    assert taken.code == 0, taken.err
    assert "Not signed" in taken.out


def test_what_is_not_a_trustworthy_mud_file_is_refused_with_the_reason(
    site: Site, tmp_path: Path
) -> None:
    content = _publish(site, signed=False)
    url = f"{site.base}/mud/m2.json"
    with pytest.raises(MudFetchError, match="certificate verify failed"):
        fetch_mud(url, unsigned_ok=True)  # the system's CAs do not know the test's
    with pytest.raises(MudFetchError, match="must be fetched over https://"):
        fetch_mud(url.replace("https://", "http://"), ca=site.ca, unsigned_ok=True)
    site.pages["/big.json"] = (200, {}, b" " * 300_000)
    with pytest.raises(MudFetchError, match="larger than 256 KiB"):
        fetch_mud(f"{site.base}/big.json", ca=site.ca, unsigned_ok=True)
    site.pages["/moved.json"] = (301, {"Location": "https://elsewhere.example/m2.json"}, b"")
    with pytest.raises(
        MudFetchError, match=re.escape("has moved to 'https://elsewhere.example/m2.json'")
    ):
        fetch_mud(f"{site.base}/moved.json", ca=site.ca, unsigned_ok=True)
    with pytest.raises(MudFetchError, match=r"could not be fetched \(HTTP 404\)"):
        fetch_mud(f"{site.base}/gone.json", ca=site.ca, unsigned_ok=True)
    site.pages["/copy.json"] = (200, {}, content)
    with pytest.raises(MudError, match="not the address it was fetched from"):
        fetch_mud(f"{site.base}/copy.json", ca=site.ca, unsigned_ok=True)
    site.pages["/slow.json"] = (200, {}, content[:8])
    site.slow.add("/slow.json")
    with pytest.raises(MudFetchError, match="did not arrive within 2 s"):
        fetch_mud(f"{site.base}/slow.json", ca=site.ca, unsigned_ok=True, timeout=2.0)
