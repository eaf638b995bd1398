"""A running hub's parts, wired once: database, keys, ingest, device credentials, lockouts.

The hub's one writer (`ingest.GroupWriter`) runs from `open` to `close`: HTTP requests and the
MQTT bridge both store through it, so whatever is waiting shares one transaction and one ledger
entry. `close` lets it store what it was given before the database goes.

Its metrics (`metrics`, served at /metrics) live in a registry of its own; the writer's and the
lockout's collectors are there from `open`, and other parts add theirs (`HubMetrics.register`).

With a read replica set (`GOODTHINGS_READ_DATABASE_URL`), `read_engine` hands the portal and
the API the replica for the readings they show, while it is fresh enough
(`core.store.replica`); consent decisions, erasure and the ledger stay on `engine`.

The hub listens for policy changes announced on its database (`policy.changes`): a consent
withdrawn, an erasure or a passer-by's opt-out made in this process reaches its gate at once,
and one made in another process or on another host wakes it through the store
(`core.store.wake`). Its gate also polls the store's version every `policy_poll` seconds, the
fallback for a wake-up lost on the way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core.config import Home, Settings
from goodthings.core.errors import DeploymentError
from goodthings.core.keys import (
    Keyring,
    KeyVault,
    journal_older_erasures,
    load_master_key,
    load_operator_token,
    load_secret_root,
    load_signing_key,
)
from goodthings.core.store import ReadReplica, open_engine
from goodthings.core.store.wake import WakeListener
from goodthings.deployment import open_store, reapply_erasures
from goodthings.ingest import Grouping, GroupWriter, Pipeline
from goodthings.policy import changes
from goodthings.rights.erasure import resume_interrupted
from goodthings.rights.passersby import IdentifierKey, OptOutGate
from goodthings.runtime.metrics import (
    GateCollector,
    HubMetrics,
    IngestCollector,
    LockoutCollector,
)
from goodthings.runtime.monitoring import attach_monitor, mail_settings
from goodthings.security import Argon2Slots, Lockout, TokenVerifier, fingerprint_key, operators
from goodthings.security.monitoring import Monitor, build_collector


@dataclass
class Hub:
    home: Home
    engine: Engine
    keyring: Keyring
    signer: Ed25519PrivateKey
    pipeline: Pipeline
    writer: GroupWriter
    """Where transports hand packs to be stored: started with the hub, stopped by `close`."""
    tokens: TokenVerifier
    operator_token: str
    password_key: bytes = b""
    """Keys the fingerprints that find a password reused across devices."""
    totp_key: bytes = b""
    """Encrypts the console's TOTP secrets (`security.operators.totp_key`)."""
    lockout: Lockout = field(default_factory=Lockout)
    metrics: HubMetrics = field(default_factory=HubMetrics)
    """What /metrics exposes: add a series with `hub.metrics.register(collector)`."""
    monitor: Monitor | None = None
    """The abuse monitor (`runtime.monitoring`), fed by the pipeline and the lockout."""
    reads: ReadReplica | None = None
    """Where readings to show are read: the replica while fresh, else the primary."""
    after_policy_change: list[Callable[[], object]] = field(default_factory=list)
    """Called after the gate reloaded for a change (the MQTT bridge publishes policies then)."""
    policy_changed_at: float = 0.0
    """Unix time this hub's gate last reloaded for a change it was told of (0: none yet)."""
    _stop_listening: Callable[[], None] | None = field(default=None, init=False, repr=False)
    _wake: WakeListener | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.metrics.register(IngestCollector(self.writer))
        self.metrics.register(LockoutCollector(lambda: self.lockout))
        # Every look of the gate at the store is one of the token memory's too: under load it
        # stays fresh without a query on the request path.
        self.pipeline.follows.append(lambda connection: self.tokens.follow(connection))
        self.writer.start()
        self._stop_listening = changes.listen(self.engine, self.on_policy_change)
        self._wake = WakeListener(self.engine, self.on_policy_change)
        self._wake.start()
        wake = self._wake
        self.metrics.register(GateCollector(self.pipeline, self.keyring, wake.listening.is_set))

    def read_engine(self) -> Engine:
        """The engine for readings the portal or the API shows (never for a decision)."""
        return self.engine if self.reads is None else self.reads.engine()

    def on_policy_change(self) -> None:
        """The one hook for a change to what the gate decides: reload the gate now, and make
        the batch being gathered wait for that reload instead of deciding with the old gate."""
        self.pipeline.changed_elsewhere()
        self.pipeline.refresh()
        self.policy_changed_at = time.time()
        for hook in list(self.after_policy_change):
            hook()

    @classmethod
    def open(cls, home: Home) -> Hub:
        grouping = _grouping(home.settings)
        _check_poll(home.settings)
        mail_settings(home.settings)  # refused before anything is opened
        engine = open_store(home)
        master = load_master_key(home.keys_dir)
        keyring = Keyring(master, KeyVault.of(home))
        signer = load_signing_key(home.keys_dir)
        # A database put back from an older copy, by any means, forgets again before serving.
        reapply_erasures(engine, keyring, signer)
        # An erasure whose process was killed half-way is finished before anything is served.
        resume_interrupted(engine, keyring, signer)
        with engine.connect() as connection:
            journal_older_erasures(connection, keyring)
        root = load_secret_root(home.keys_dir)
        tokens = TokenVerifier(
            engine, slots=Argon2Slots(home.settings.argon2_concurrency, home.settings.argon2_wait)
        )
        pipeline = Pipeline(
            engine,
            keyring,
            signer,
            refresh_interval=home.settings.policy_poll,
            optouts=OptOutGate(IdentifierKey(root)),
            refused_kept=home.settings.refused_packs_kept,
        )
        hub = cls(
            home=home,
            engine=engine,
            keyring=keyring,
            signer=signer,
            pipeline=pipeline,
            writer=GroupWriter(pipeline, grouping),
            tokens=tokens,
            operator_token=load_operator_token(home.keys_dir),
            password_key=fingerprint_key(root),
            totp_key=operators.totp_key(root),
            reads=_reads(engine, home.settings),
        )
        attach_monitor(hub)
        hub.metrics.register(build_collector(engine))  # detections and quarantines, at /metrics
        return hub

    def close(self) -> None:
        """Store what the writer was given, then let go of the database."""
        self.writer.stop()
        if self.monitor is not None:
            self.monitor.close()
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        if self._wake is not None:
            self._wake.stop()
            self._wake = None
        if self.reads is not None and self.reads.replica is not None:
            self.reads.replica.dispose()
        self.engine.dispose()


def _reads(engine: Engine, settings: Settings) -> ReadReplica | None:
    """The replica's router when one is set; refused unless both databases are PostgreSQL."""
    if settings.read_database_url is None:
        return None
    replica = open_engine(settings.read_database_url)
    if engine.dialect.name != "postgresql" or replica.dialect.name != "postgresql":
        replica.dispose()
        raise DeploymentError(
            "GOODTHINGS_READ_DATABASE_URL names a streaming replica, which only a PostgreSQL "
            "deployment has; unset it, or run the deployment on PostgreSQL"
        )
    return ReadReplica(engine, replica, settings.read_max_lag)


def _check_poll(settings: Settings) -> None:
    if not settings.policy_poll > 0:
        raise DeploymentError(
            "GOODTHINGS_POLICY_POLL must be more than 0 (seconds between a worker's looks for "
            f"changes); it is {settings.policy_poll}"
        )


def _grouping(settings: Settings) -> Grouping:
    """The writer's bounds from the settings, refused before anything is opened."""
    try:
        return Grouping(settings.ingest_group_packs, settings.ingest_group_wait)
    except ValueError:
        raise DeploymentError(
            "GOODTHINGS_INGEST_GROUP_PACKS must be at least 1 and GOODTHINGS_INGEST_GROUP_WAIT "
            f"at least 0 (seconds); they are {settings.ingest_group_packs} and "
            f"{settings.ingest_group_wait}"
        ) from None
