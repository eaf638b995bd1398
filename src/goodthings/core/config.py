"""Where a deployment lives and which database it uses, from flags or the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from goodthings.core.store import sqlite_url

MANIFEST_FILE = "goodthings.yaml"
DATABASE_FILE = "goodthings.db"
KEYS_DIR = "keys"
WITNESS_FILE = "ledger-witness.jsonl"


class Settings(BaseSettings):
    """`GOODTHINGS_HOME` and `GOODTHINGS_DATABASE_URL`; flags on the command line win."""

    model_config = SettingsConfigDict(env_prefix="GOODTHINGS_")

    home: Path | None = None
    database_url: str | None = None
    ingest_max_bytes: int = 1_048_576
    """Largest SenML pack accepted over HTTP (413 above it)."""
    ingest_rate: float = 200.0
    """Packs per second each device may send over HTTP, on average (429 above it)."""
    ingest_burst: int = 400
    """Packs a device may send at once before the rate applies."""
    ingest_group_packs: int = 500
    """Most packs the hub's writer stores in one transaction and one ledger entry."""
    ingest_group_wait: float = 0.002
    """Seconds the writer waits, after a group's first pack, for more packs to join it."""
    refused_packs_kept: int = 10_000
    """How many of the newest refused packs `goodthings ingest rejected` can show (older ones
    are forgotten as new ones arrive)."""
    argon2_concurrency: int = 2
    """argon2id credential checks this process runs at once (each takes 64 MiB)."""
    argon2_wait: float = 10.0
    """Seconds a sign-in waits for a free check before it is refused (503 over HTTP)."""
    mqtt_url: str | None = None
    """mqtt://host:port of the broker devices publish to; none means the embedded broker."""
    mqtt_ca: Path | None = None
    """A PEM file of the CA that signed the broker's certificate (mqtts:// with a private CA)."""
    mqtt_port: int = 1883
    """Port of the embedded broker on 127.0.0.1, when no broker URL is set (0: any free port)."""
    worker: str = "1"
    retention_interval: float = 3600.0
    """Seconds between purges of readings past their stream's retention, while serving."""
    sharing_interval: float = 60.0
    """Seconds between rounds of webhook deliveries to recipients, while serving."""
    """This process's name among the hub's workers: its MQTT session is found again by it."""
    mqtt_admin_username: str | None = None
    """Mosquitto's dynamic-security admin client, to provision per-device clients and ACLs."""
    mqtt_admin_password_file: Path | None = None
    """A file (mode 0600) holding that admin client's password."""
    public_url: str = "http://127.0.0.1:8080"
    """Where people reach the portal: the start of the sign-in links `subject invite` prints."""
    invite_hours: float = 168.0
    """How long a sign-in link or code works (a week: long enough for a letter to arrive)."""
    portal_session_hours: float = 12.0
    """How long a portal sign-in lasts."""
    erasure_days: int = 30
    """The deadline recorded with each erasure request (GDPR art. 12(3): one month)."""
    erasure_keep_aggregates: bool = False
    """Keep daily totals, unlinked from the person, instead of deleting everything."""
    erasure_review: bool = False
    """Portal erasure requests wait for the operator (`goodthings erase`), e.g. under a legal
    hold, instead of running at once."""
    ledger_witness: Path | None = None
    """The append-only file every signed ledger checkpoint is also written to (default
    `ledger-witness.jsonl` in the deployment directory); keep a copy elsewhere."""


@dataclass(frozen=True)
class Home:
    """A deployment directory: the manifest, the embedded database and the key files."""

    root: Path
    database_url_override: str | None = None
    settings: Settings = field(default_factory=lambda: Settings(home=None, database_url=None))

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def keys_dir(self) -> Path:
        return self.root / KEYS_DIR

    @property
    def witness_path(self) -> Path:
        return self.settings.ledger_witness or self.root / WITNESS_FILE

    @property
    def database_url(self) -> str:
        return self.database_url_override or sqlite_url(self.root / DATABASE_FILE)


def resolve_home(home: Path | None = None) -> Home:
    """The deployment directory: `--home`, else `GOODTHINGS_HOME`, else the current directory."""
    settings = Settings()
    root = home or settings.home or Path.cwd()
    return Home(root.resolve(), settings.database_url, settings)
