"""A kept report's signature, checked against the exact key files that were read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goodthings.assessment import signatures
from goodthings.assessment.report import sign_report
from goodthings.core.keys import SIGNING_PUBLIC_KEY


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_a_key_file_swapped_while_it_is_read_cannot_leave_a_forgery_passing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer is kept for the key files' bytes. It was found by reading the files again,
    so a forger's key put in place for that instant was asked, and its "the forgery holds"
    stayed kept for the genuine key's bytes after the genuine key was back."""
    ours, forger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys = tmp_path / "keys"
    keys.mkdir()
    public = keys / SIGNING_PUBLIC_KEY
    public.write_bytes(_pem(ours))
    forged = json.dumps(sign_report({"overall": "pass"}, forger)).encode()
    read = signatures._bytes

    def swapped_after_reading(path: Path) -> bytes | None:
        data = read(path)
        if path == public:
            public.write_bytes(_pem(forger))
        return data

    with monkeypatch.context() as patched:
        patched.setattr(signatures, "_bytes", swapped_after_reading)
        assert signatures.signature_problems(forged, keys) != []
    public.write_bytes(_pem(ours))
    assert signatures.signature_problems(forged, keys) != [], "the forgery passes"
    genuine = json.dumps(sign_report({"overall": "fail"}, ours)).encode()
    assert signatures.signature_problems(genuine, keys) == []
