"""Example deployments made once per test process and copied for each test that needs one.

`goodthings init` migrates an empty store through every migration, parses the example's
manifest and applies it: about half a second on SQLite and a second on PostgreSQL, CPU the
whole suite pays some thousand times over. A copy of a deployment made by `init_deployment`
itself is the same deployment, made in a few milliseconds: the SQLite file and the key files
are copied; a PostgreSQL schema is replayed from a `pg_dump` of the one made first. Tests of
`init` itself call `init_deployment`.

What a copy shares with its template, and with the other copies in the same process, is only
its keys and its records' times (made when the template was): each copy is a directory, a
database file or a schema of its own.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import URL, make_url

from goodthings.core.config import DATABASE_FILE, Home, Stored, write_stored
from goodthings.deployment import init_deployment
from goodthings.deployment.backup import libpq_url, postgres_tool

_TEMPLATES = tempfile.TemporaryDirectory(prefix="goodthings-templates-")
"""Removed when the test process ends."""


@dataclass(frozen=True)
class _Template:
    root: Path
    dump: str | None
    """PostgreSQL: the schema's SQL, with its name and the template's root to be replaced."""
    schema: str | None


_made: dict[tuple[str, str | None], _Template] = {}


def init_from_template(home: Home, example: str) -> None:
    """What `init_deployment(home, example)` makes, copied from one made in this process."""
    override = home.database_url_override
    url = None if override is None else make_url(override)
    schema = None if url is None else _schema(url)
    if url is not None and schema is None:
        init_deployment(home, example)  # a database of its own (a test's own server): made once
        return
    key = (example, None if url is None else f"{url.host}:{url.port}/{url.database}")
    template = _made.get(key)
    if template is None:
        template = _made[key] = _make(example, url)
    public_url = home.settings.public_url
    shutil.copytree(template.root, home.root, dirs_exist_ok=True, symlinks=True)
    write_stored(home.root, Stored(override, public_url))
    if url is None:
        _point_at(home.root / DATABASE_FILE, template.root, home.root)
        return
    assert template.dump is not None and template.schema is not None and schema is not None
    sql = template.dump.replace(template.schema, schema).replace(str(template.root), str(home.root))
    with psycopg.connect(libpq_url(url)[0]) as connection:
        connection.execute(sql.encode())


def _make(example: str, url: URL | None) -> _Template:
    root = Path(_TEMPLATES.name) / uuid.uuid4().hex
    if url is None:
        init_deployment(Home(root), example)
        return _Template(root, None, None)
    schema = f"gt_template_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_url(url)[0], autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        made = url.update_query_dict({"options": f"-csearch_path={schema}"})
        init_deployment(Home(root, made.render_as_string(hide_password=False)), example)
        dump = _dump(made)
    finally:
        with psycopg.connect(libpq_url(url)[0], autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return _Template(root, dump, schema)


def _dump(url: URL) -> str:
    """The schema `url` names as SQL that one `execute` replays (INSERTs: COPY needs a second
    channel), less its CREATE SCHEMA (the test's schema exists already) and psql's own
    commands (`\\restrict`, which a server does not know). Named to pg_dump as
    `goodthings backup` names a database."""
    schema = _schema(url)
    assert schema is not None
    target, environment = libpq_url(url)
    command = [postgres_tool("pg_dump"), "--schema", schema, "--no-owner", "--no-privileges"]
    command += ["--inserts", "--rows-per-insert=1000", "--dbname", target]
    dumped = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return "\n".join(
        line for line in dumped.stdout.splitlines() if not line.startswith(("CREATE SCHEMA ", "\\"))
    )


def _point_at(database: Path, old: Path, new: Path) -> None:
    """The manifest's recorded path, as `init` in `new` would have recorded it."""
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE manifest_versions SET source = replace(source, ?, ?)", (str(old), str(new))
        )
    connection.close()


def _schema(url: URL) -> str | None:
    """The schema of its own a test's URL names (`postgres_url`), if it names one."""
    options = url.query.get("options", "")
    if not isinstance(options, str) or not options.startswith("-csearch_path="):
        return None
    return options.removeprefix("-csearch_path=")
