"""A running hub's parts, wired once: database, keys, the ingest pipeline, device tokens."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.config import Home
from goodthings.deployment import open_store
from goodthings.ingest.pipeline import Pipeline
from goodthings.keys.datakeys import Keyring
from goodthings.keys.files import load_master_key, load_operator_token, load_signing_key
from goodthings.passersby import IdentifierKey, OptOutGate
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

    @classmethod
    def open(cls, home: Home) -> Hub:
        engine = open_store(home)
        master_key = load_master_key(home.keys_dir)
        keyring = Keyring(master_key)
        signer = load_signing_key(home.keys_dir)
        optouts = OptOutGate(IdentifierKey(master_key))
        return cls(
            home=home,
            engine=engine,
            keyring=keyring,
            signer=signer,
            pipeline=Pipeline(engine, keyring, signer, optouts=optouts),
            tokens=TokenVerifier(engine),
            operator_token=load_operator_token(home.keys_dir),
        )

    def close(self) -> None:
        self.engine.dispose()
