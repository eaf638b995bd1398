"""A report an auditor can verify on another machine, with no access to the hub.

A bundle is a directory of plain files: the signed report, the ledger checkpoint it cites, the
deployment's public key, the report as a page for people, and `bundle.json`, which lists every
other file with its SHA-256 and is itself signed (`bundle.sig`). Verification needs only the
bundle: every byte of every file is covered by a signature, and a file added or missing is
named. What the bundle cannot prove on its own is whose key it is: the verifier compares the
key id it prints with the one the deployment publishes (its notices and security.txt), or
passes `--key-id` to have it checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from goodthings.assessment.report import canonical, report_problems
from goodthings.core.ledger import Checkpoint, checkpoint_problem, key_history, key_id

BUNDLE_FORMAT = "goodthings-assessment-bundle/1"
REPORT_FILE = "report.json"
CHECKPOINT_FILE = "checkpoint.json"
PUBLIC_KEY_FILE = "public-key.pem"
PAGE_FILE = "report.html"
INDEX_FILE = "bundle.json"
SIGNATURE_FILE = "bundle.sig"
_SIGNED_PREFIX = b"goodthings assessment bundle v1\n"


class BundleError(Exception):
    """The bundle cannot be written where asked."""


def export_bundle(
    signed: Mapping[str, Any], page: str, signer: Ed25519PrivateKey, out: Path
) -> list[Path]:
    """Write the bundle into the new directory `out`; returns the files written."""
    if out.exists():
        raise BundleError(f"{out} already exists: choose a new directory for the bundle")
    public_key = signer.public_key()
    cited = signed["report"].get("ledger")
    files: dict[str, bytes] = {
        REPORT_FILE: json.dumps(signed, indent=2, ensure_ascii=False).encode() + b"\n",
        PUBLIC_KEY_FILE: public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        PAGE_FILE: page.encode(),
    }
    if cited is not None:
        files[CHECKPOINT_FILE] = json.dumps(cited, indent=2).encode() + b"\n"
    index = canonical(
        {
            "format": BUNDLE_FORMAT,
            "key_id": key_id(public_key),
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
        }
    )
    files[INDEX_FILE] = index
    files[SIGNATURE_FILE] = base64.b64encode(signer.sign(_SIGNED_PREFIX + index)) + b"\n"
    out.mkdir(parents=True)
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


def verify_bundle(bundle: Path, *, expected_key_id: str | None = None) -> tuple[str, list[str]]:
    """The key id the bundle is signed with, and every problem found (none: it verifies)."""
    if not bundle.is_dir():
        return "", [
            f"{bundle} is not a bundle directory (write one with `goodthings assess export`)"
        ]
    try:
        public_key = _public_key((bundle / PUBLIC_KEY_FILE).read_bytes())
        index_bytes = (bundle / INDEX_FILE).read_bytes()
        signature = (bundle / SIGNATURE_FILE).read_bytes()
    except FileNotFoundError as missing:
        return "", [f"the bundle has no {Path(str(missing.filename)).name}"]
    except ValueError as bad:
        return "", [f"{PUBLIC_KEY_FILE}: {bad}"]
    signing_key = key_id(public_key)
    problems = []
    if expected_key_id is not None and expected_key_id != signing_key:
        problems.append(f"the bundle is signed with key {signing_key}, not {expected_key_id}")
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
        public_key.verify(raw, _SIGNED_PREFIX + index_bytes)
    except (InvalidSignature, ValueError):
        return signing_key, [*problems, f"{INDEX_FILE} does not match {SIGNATURE_FILE}: changed"]
    if base64.b64encode(raw) + b"\n" != signature:  # the same signature, written otherwise
        return signing_key, [*problems, f"{SIGNATURE_FILE} was changed after it was written"]
    index = json.loads(index_bytes)
    problems += _files_problems(bundle, index.get("files", {}))
    if problems:
        return signing_key, problems
    signed = json.loads((bundle / REPORT_FILE).read_bytes())
    problems += [f"{REPORT_FILE}: {p}" for p in report_problems(signed, public_key)]
    problems += _checkpoint_problems(bundle, signed["report"].get("ledger"), public_key)
    return signing_key, problems


def _files_problems(bundle: Path, listed: Mapping[str, str]) -> list[str]:
    problems = []
    present = {path.name for path in bundle.iterdir()} - {INDEX_FILE, SIGNATURE_FILE}
    for name in sorted(present - set(listed)):
        problems.append(f"{name} is not part of the signed bundle: it was added")
    for name, digest in sorted(listed.items()):
        path = bundle / name
        if not path.is_file():
            problems.append(f"{name} is missing from the bundle")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            problems.append(f"{name} was changed after the bundle was signed")
    return problems


def _checkpoint_problems(
    bundle: Path, cited: Mapping[str, Any] | None, public_key: Ed25519PublicKey
) -> list[str]:
    path = bundle / CHECKPOINT_FILE
    if cited is None:
        return (
            [] if not path.exists() else [f"{CHECKPOINT_FILE} is there, but the report cites none"]
        )
    checkpoint = Checkpoint(**json.loads(path.read_bytes()))
    problems = []
    if vars(checkpoint) != dict(cited):
        problems.append(f"{CHECKPOINT_FILE} is not the checkpoint the report cites")
    problem = checkpoint_problem(checkpoint, key_history(public_key, ()))
    if problem is not None:
        problems.append(f"{CHECKPOINT_FILE}: {problem}")
    return problems


def _public_key(data: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key
