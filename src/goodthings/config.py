"""Where a deployment lives and which database it uses, from flags or the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from goodthings.store.engine import sqlite_url

MANIFEST_FILE = "goodthings.yaml"
DATABASE_FILE = "goodthings.db"
KEYS_DIR = "keys"


class Settings(BaseSettings):
    """`GOODTHINGS_HOME` and `GOODTHINGS_DATABASE_URL`; flags on the command line win."""

    model_config = SettingsConfigDict(env_prefix="GOODTHINGS_")

    home: Path | None = None
    database_url: str | None = None


@dataclass(frozen=True)
class Home:
    """A deployment directory: the manifest, the embedded database and the key files."""

    root: Path
    database_url_override: str | None = None

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_FILE

    @property
    def keys_dir(self) -> Path:
        return self.root / KEYS_DIR

    @property
    def database_url(self) -> str:
        return self.database_url_override or sqlite_url(self.root / DATABASE_FILE)


def resolve_home(home: Path | None = None) -> Home:
    """The deployment directory: `--home`, else `GOODTHINGS_HOME`, else the current directory."""
    settings = Settings()
    root = home or settings.home or Path.cwd()
    return Home(root.resolve(), settings.database_url)
