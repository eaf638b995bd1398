"""Where a deployment lives and which database and public address it uses.

The deployment's own settings file (`settings.env`, written by `init` and `goodthings deployment
set`) says how it runs. The environment may repeat what the file says but not contradict it:
a command that would otherwise guess between two databases refuses and says which is which.
A deployment without the file (made before it existed) takes the environment as before.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values, set_key, unset_key
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from goodthings.core.errors import DeploymentError
from goodthings.core.store import normalise_url, sqlite_url

MANIFEST_FILE = "goodthings.yaml"
DATABASE_FILE = "goodthings.db"
KEYS_DIR = "keys"
WITNESS_FILE = "ledger-witness.jsonl"
WITNESSED_FILE = "witnessed-checkpoints.jsonl"
WITNESSED_KEYS_FILE = "witnessed-keys.jsonl"
SETTINGS_FILE = "settings.env"
DATABASE_VARIABLE = "GOODTHINGS_DATABASE_URL"
PUBLIC_URL_VARIABLE = "GOODTHINGS_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
_SETTINGS_HEADER = """\
# How this deployment runs; every goodthings command reads it. Change it with
# `goodthings deployment set database URL` or `goodthings deployment set public-url URL`.
# Without GOODTHINGS_DATABASE_URL the database is goodthings.db in this directory.
# Mode 0600: a database URL may hold a password. Keep it out of version control.
"""
DATA_KEYS_DIR = "data"
ERASURE_JOURNAL = "erasures.jsonl"


class Settings(BaseSettings):
    """`GOODTHINGS_HOME` and `GOODTHINGS_DATABASE_URL`; flags on the command line win."""

    model_config = SettingsConfigDict(env_prefix="GOODTHINGS_")

    home: Path | None = None
    database_url: str | None = None
    read_database_url: str | None = None
    """A streaming replica of the PostgreSQL database: the portal's and the API's readings are
    read there while it is provably within `read_max_lag` of the primary (none: the primary)."""
    read_max_lag: float = 5.0
    """Seconds a reading committed on the primary may take to show from the replica; beyond
    that, reads go to the primary until the replica has caught up."""
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
    policy_poll: float = 0.05
    """Seconds between a worker's looks at the store for consent changes and erasures it was
    not woken for (the fallback: a change wakes every worker at once, `core.store.wake`)."""
    refused_packs_kept: int = 10_000
    """How many of the newest refused packs `goodthings ingest rejected` can show (older ones
    are forgotten as new ones arrive)."""
    argon2_concurrency: int = 1
    """argon2id credential checks this process runs at once (each takes 64 MiB). One by
    default: a check already runs on 4 threads (its 4 lanes), so a second one at once adds
    64 MiB to the process's peak and little speed on a machine of a few cores."""
    argon2_wait: float = 10.0
    """Seconds a sign-in waits for a free check before it is refused (503 over HTTP)."""
    mqtt_url: str | None = None
    """mqtt://host:port of the broker devices publish to; none means the embedded broker."""
    cluster_url: str | None = None
    """`nats://host:port,host:port,...` of a NATS JetStream broker cluster: readings are then
    pulled from it, and `mqtt_url` lists the nodes' MQTT listeners (for the policies)."""
    mqtt_ca: Path | None = None
    """A PEM file of the CA that signed the broker's certificate (mqtts:// with a private CA)."""
    mqtt_port: int = 1883
    """Port of the embedded broker on 127.0.0.1, when no broker URL is set (0: any free port)."""
    worker: str = "1"
    retention_interval: float = 3600.0
    """Seconds between purges of readings past their stream's retention, while serving."""
    sharing_interval: float = 60.0
    """Seconds between rounds of webhook deliveries to recipients, while serving."""
    alert_smtp: str | None = None
    """`host:port` of the SMTP server that mails abuse-monitoring alerts (none: no mail)."""
    alert_mail_to: str | None = None
    """Comma-separated addresses that receive those alerts."""
    alert_mail_from: str = "goodthings@localhost"
    alert_webhook_url: str | None = None
    """Where abuse-monitoring alerts are POSTed as signed JSON (none: no webhook)."""
    """This process's name among the hub's workers: its MQTT session is found again by it."""
    mqtt_admin_username: str | None = None
    """Mosquitto's dynamic-security admin client, to provision per-device clients and ACLs."""
    mqtt_admin_password_file: Path | None = None
    """A file (mode 0600) holding that admin client's password."""
    mqtt_log: Path | None = None
    """Mosquitto's log file (`log_dest file`, with `log_type debug`): the hub reads the topics
    the broker denied each device from it. Set it on one hub worker only."""
    public_url: str = DEFAULT_PUBLIC_URL
    """Where people reach the portal: the start of the sign-in links `subject invite` prints."""
    security_txt_key: Path | None = None
    """The operator's OpenPGP secret key (an armored file without a passphrase): security.txt
    is then served with a cleartext signature (RFC 9116 §2.3)."""
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
    witness_url: str | None = None
    """A second goodthings instance acting as witness (its base URL): `serve` pushes each
    signed checkpoint to it, in the background, retrying until it is taken."""
    witness_peer_key: Path | None = None
    """As a witness: the public key (PEM) of the hub whose checkpoints this instance accepts at
    `POST /witness/checkpoints`; without it, the witness routes answer 404."""


@dataclass(frozen=True)
class Stored:
    """What a deployment's settings file says; `None` for what it leaves to the defaults (the
    embedded SQLite database, the default public address)."""

    database_url: str | None = None
    public_url: str | None = None


@dataclass(frozen=True)
class Home:
    """A deployment directory: the manifest, the embedded database and the key files."""

    root: Path
    database_url_override: str | None = None
    settings: Settings = field(default_factory=lambda: Settings(home=None, database_url=None))
    stored: Stored | None = None
    """The deployment's settings file, when it has one."""

    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def keys_dir(self) -> Path:
        return self.root / KEYS_DIR

    @property
    def data_keys_dir(self) -> Path:
        """Every holder's wrapped data key, one file each: outside the database, so that no
        database backup holds a key (`goodthings.core.keys.vault`)."""
        return self.keys_dir / DATA_KEYS_DIR

    @property
    def erasure_journal_path(self) -> Path:
        """The append-only record of destroyed data keys that a restore re-applies."""
        return self.root / ERASURE_JOURNAL

    @property
    def witnessed_path(self) -> Path:
        """As a witness: the checkpoints accepted from the peer hub, in the witness format."""
        return self.root / WITNESSED_FILE

    @property
    def witnessed_keys_path(self) -> Path:
        """As a witness: the peer hub's signing-key changes it accepted."""
        return self.root / WITNESSED_KEYS_FILE

    @property
    def witness_path(self) -> Path:
        return self.settings.ledger_witness or self.root / WITNESS_FILE

    @property
    def database_url(self) -> str:
        return self.database_url_override or sqlite_url(self.root / DATABASE_FILE)


def deployment_root(home: Path | None = None) -> Path:
    """The deployment directory: `--home`, else `GOODTHINGS_HOME`, else the current directory."""
    return (home or Settings().home or Path.cwd()).resolve()


def resolve_home(home: Path | None = None) -> Home:
    """The deployment in `home` (see `deployment_root`), running as its settings file says.

    Raises `DeploymentError` when the environment names another database or public address
    than the file, rather than choosing one of them.
    """
    settings = Settings()
    root = deployment_root(home)
    stored = read_stored(root)
    if stored is None:
        return Home(root, settings.database_url, settings)
    configured = stored.database_url or sqlite_url(root / DATABASE_FILE)
    if settings.database_url is not None and not same_database(settings.database_url, configured):
        raise DeploymentError(
            f"the deployment in {root} runs on {shown_url(configured)} ({root / SETTINGS_FILE}), "
            f"but {DATABASE_VARIABLE} names {shown_url(settings.database_url)}; unset "
            f"{DATABASE_VARIABLE} to use the deployment's database, or, if the deployment now "
            "lives in that one, record it with `goodthings deployment set database URL`"
        )
    update: dict[str, object] = {"database_url": stored.database_url}
    if stored.public_url is not None:
        from_environment = "public_url" in settings.model_fields_set
        if from_environment and settings.public_url.rstrip("/") != stored.public_url:
            raise DeploymentError(
                f"the deployment in {root} is reached at {stored.public_url} "
                f"({root / SETTINGS_FILE}), but {PUBLIC_URL_VARIABLE} says "
                f"{settings.public_url}; unset {PUBLIC_URL_VARIABLE}, or change the address "
                "with `goodthings deployment set public-url URL`"
            )
        update["public_url"] = stored.public_url
    return Home(root, stored.database_url, settings.model_copy(update=update), stored)


def new_home(directory: Path, database_url: str | None, public_url: str | None) -> Home:
    """The deployment `init` is to make in `directory`: the database and public address given,
    else the environment's, else the defaults."""
    settings = Settings()
    update: dict[str, object] = {}
    if database_url is not None:
        update["database_url"] = database_url
    update["public_url"] = checked_public_url(public_url or settings.public_url)
    settings = settings.model_copy(update=update)
    return Home(directory.resolve(), settings.database_url, settings)


def read_stored(root: Path) -> Stored | None:
    """The settings file of the deployment in `root`, or `None` when it has none."""
    path = root / SETTINGS_FILE
    if not path.is_file():
        return None
    values = dotenv_values(path)
    unknown = sorted(set(values) - {DATABASE_VARIABLE, PUBLIC_URL_VARIABLE})
    if unknown:
        raise DeploymentError(
            f"{path}: unknown setting {unknown[0]}; it may hold {DATABASE_VARIABLE} and "
            f"{PUBLIC_URL_VARIABLE}"
        )
    database_url = values.get(DATABASE_VARIABLE) or None
    if database_url is not None and _has_password(database_url):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise DeploymentError(
                f"{path} holds a database password and can be read by other users "
                f"(mode {mode:o}); run `chmod 600 {path}`"
            )
    public_url = values.get(PUBLIC_URL_VARIABLE) or None
    return Stored(database_url, checked_public_url(public_url) if public_url else None)


def write_stored(root: Path, stored: Stored) -> Path:
    """Write the deployment's settings file (mode 0600), keeping any comments in it."""
    path = root / SETTINGS_FILE
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_SETTINGS_HEADER)
    path.chmod(0o600)
    current = dotenv_values(path)
    for variable, value in (
        (DATABASE_VARIABLE, stored.database_url),
        (PUBLIC_URL_VARIABLE, stored.public_url),
    ):
        if value is not None:
            set_key(path, variable, value)
        elif variable in current:
            unset_key(path, variable)
    return path


def checked_public_url(url: str) -> str:
    """`url` without its trailing slash, if it is an http(s) address people can open."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DeploymentError(
            f"the public address {url!r} is not an http:// or https:// address with a host, "
            "e.g. https://hub.example.org"
        )
    return url.rstrip("/")


def same_database(first: str, second: str) -> bool:
    """Whether two database URLs name the same database (`postgresql://` is psycopg's)."""
    try:
        a, b = make_url(normalise_url(first)), make_url(normalise_url(second))
    except ArgumentError:
        return first == second
    if a.get_backend_name() == b.get_backend_name() == "sqlite":
        return Path(a.database or "").resolve() == Path(b.database or "").resolve()
    return a == b


def shown_url(url: str) -> str:
    """A database URL fit to print: its password, if any, replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "an unreadable URL"


def _has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except ArgumentError:
        return False
