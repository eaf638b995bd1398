"""Fixtures shared by the whole suite: deployment directories and real databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from sqlalchemy import Engine, text

from goodthings.core.config import Home
from goodthings.core.store import migrate, open_engine
from goodthings.runtime.hub import Hub
from services import ensure_postgres
from templates import init_from_template

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    return ensure_postgres()


@pytest.fixture
def postgres_url(postgres_dsn: str) -> Iterator[str]:
    """A SQLAlchemy URL for a fresh schema of its own in the test database, dropped afterwards."""
    schema = f"gt_{uuid.uuid4().hex[:12]}"
    params = dict(part.split("=", 1) for part in postgres_dsn.split())
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'create schema "{schema}"')
    options = quote(f"-csearch_path={schema}")
    yield (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params['host']}:"
        f"{params['port']}/{params['dbname']}?options={options}"
    )
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'drop schema "{schema}" cascade')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Engine]:
    """An empty store at the newest migration, on SQLite and on PostgreSQL."""
    engine = open_engine(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    """An empty place for a deployment, on the embedded SQLite default."""
    return Home(tmp_path / "deployment")


@pytest.fixture
def smart_home(tmp_path: Path, database_url: str) -> Iterator[Hub]:
    """The smart-home example, applied, on SQLite and on PostgreSQL, opened as a running hub."""
    root = tmp_path / "smart-home"
    override = None if database_url.startswith("sqlite") else database_url
    deployment = Home(root, override)
    init_from_template(deployment, "smart-home")
    hub = Hub.open(deployment)
    yield hub
    hub.close()


@pytest.fixture
def store_refuses_nul(smart_home: Hub) -> Hub:
    """PostgreSQL takes no NUL in text; SQLite does, so a trigger makes it refuse it the same."""
    if smart_home.engine.dialect.name == "sqlite":
        with smart_home.engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TRIGGER refuse_nul BEFORE INSERT ON readings "
                    "WHEN instr(NEW.value_text, char(0)) > 0 "
                    "BEGIN SELECT RAISE(ABORT, 'NUL in text'); END"
                )
            )
    return smart_home
