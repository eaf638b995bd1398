"""A running hub's parts, wired once: database, keys, ingest, device credentials, lockouts."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core.config import Home
from goodthings.core.keys.datakeys import Keyring
from goodthings.core.keys.files import load_master_key, load_operator_token, load_signing_key
from goodthings.deployment.directory import open_store
from goodthings.ingest.pipeline import Pipeline
from goodthings.rights.passersby import IdentifierKey, OptOutGate
from goodthings.security.credentials import fingerprint_key
from goodthings.security.lockout import Lockout
from goodthings.security.tokens import TokenVerifier


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
    lockout: Lockout = field(default_factory=Lockout)

    @classmethod
    def open(cls, home: Home) -> Hub:
        engine = open_store(home)
        master = load_master_key(home.keys_dir)
        keyring = Keyring(master)
        signer = load_signing_key(home.keys_dir)
        optouts = OptOutGate(IdentifierKey(master))
        return cls(
            home=home,
            engine=engine,
            keyring=keyring,
            signer=signer,
            pipeline=Pipeline(engine, keyring, signer, optouts=optouts),
            tokens=TokenVerifier(engine),
            operator_token=load_operator_token(home.keys_dir),
            password_key=fingerprint_key(master),
        )

    def close(self) -> None:
        self.engine.dispose()
