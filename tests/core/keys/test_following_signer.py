"""A process that follows a rotation finds the new key at every moment of the rename that puts
it in place: the new key moves from signing.key.next over signing.key in one rename, and a
follower that looked in the two files in the wrong order could miss it in both."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from goodthings.core.keys import load_signing_key
from goodthings.core.keys.files import NEXT_SIGNING_KEY, SIGNING_KEY
from goodthings.core.keys.signing import pem
from goodthings.core.ledger import key_id


def _write(path: Path, key: Ed25519PrivateKey) -> None:
    path.write_bytes(pem(key))
    path.chmod(0o600)


def test_the_new_key_is_found_while_it_is_renamed_over_the_old_one(tmp_path: Path) -> None:
    _write(tmp_path / SIGNING_KEY, Ed25519PrivateKey.generate())
    missed = 0
    for _ in range(1000):
        follower = load_signing_key(tmp_path)
        new = Ed25519PrivateKey.generate()
        _write(tmp_path / NEXT_SIGNING_KEY, new)
        renamed = threading.Thread(
            target=os.replace, args=(tmp_path / NEXT_SIGNING_KEY, tmp_path / SIGNING_KEY)
        )
        renamed.start()
        try:
            follower.follow(key_id(new.public_key()))
        except Exception:
            missed += 1
        renamed.join()
    assert missed == 0, f"the new key was missed {missed} times in 1000 renames"
