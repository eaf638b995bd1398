"""A running hub's parts, wired once: database, keys, ingest, device credentials, lockouts.

The hub listens for policy changes announced on its database (`policy.changes`): a consent
withdrawn, an erasure or a passer-by's opt-out made in this process reaches its gate at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core.config import Home
from goodthings.core.keys import (
    Keyring,
    KeyVault,
    journal_older_erasures,
    load_master_key,
    load_operator_token,
    load_signing_key,
)
from goodthings.deployment import open_store, reapply_erasures
from goodthings.ingest import Pipeline
from goodthings.policy import changes
from goodthings.rights.passersby import IdentifierKey, OptOutGate
from goodthings.security import Argon2Slots, Lockout, TokenVerifier, fingerprint_key, operators


@dataclass
class Hub:
    home: Home
    engine: Engine
    keyring: Keyring
    signer: Ed25519PrivateKey
    pipeline: Pipeline
    tokens: TokenVerifier
    operator_token: str
    password_key: bytes = b""
    """Keys the fingerprints that find a password reused across devices."""
    totp_key: bytes = b""
    """Encrypts the console's TOTP secrets (`security.operators.totp_key`)."""
    lockout: Lockout = field(default_factory=Lockout)
    _stop_listening: Callable[[], None] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._stop_listening = changes.listen(self.engine, self.on_policy_change)

    def on_policy_change(self) -> None:
        """The one hook for a change to what the gate decides: reload the gate now."""
        self.pipeline.refresh()

    @classmethod
    def open(cls, home: Home) -> Hub:
        engine = open_store(home)
        master = load_master_key(home.keys_dir)
        keyring = Keyring(master, KeyVault.of(home))
        signer = load_signing_key(home.keys_dir)
        # A database put back from an older copy, by any means, forgets again before serving.
        reapply_erasures(engine, keyring, signer)
        with engine.connect() as connection:
            journal_older_erasures(connection, keyring)
        optouts = OptOutGate(IdentifierKey(master))
        return cls(
            home=home,
            engine=engine,
            keyring=keyring,
            signer=signer,
            pipeline=Pipeline(
                engine,
                keyring,
                signer,
                optouts=optouts,
                refused_kept=home.settings.refused_packs_kept,
            ),
            tokens=TokenVerifier(
                engine,
                slots=Argon2Slots(home.settings.argon2_concurrency, home.settings.argon2_wait),
            ),
            operator_token=load_operator_token(home.keys_dir),
            password_key=fingerprint_key(master),
            totp_key=operators.totp_key(master),
        )

    def close(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        self.engine.dispose()
