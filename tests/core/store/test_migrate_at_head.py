"""`migrate` leaves a database at the newest migration alone without loading alembic, and
still upgrades one that is behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from goodthings.core.store import migrate, open_engine, schema_is_current
from goodthings.core.store.engine import _alembic_config, _head_revision, sqlite_url


def test_the_head_read_from_the_files_is_alembic_s() -> None:
    from alembic.script import ScriptDirectory

    assert _head_revision() == ScriptDirectory.from_config(_alembic_config()).get_current_head()


def test_a_database_behind_is_upgraded_and_one_at_head_is_not_touched(tmp_path: Path) -> None:
    engine = open_engine(sqlite_url(tmp_path / "store.db"))
    try:
        migrate(engine)  # a new database: alembic creates every table
        assert schema_is_current(engine)
        with engine.begin() as connection:  # as if 0016 had not run yet
            connection.execute(text("ALTER TABLE behaviour_minutes DROP COLUMN denied"))
            connection.execute(text("UPDATE alembic_version SET version_num = '0015'"))
        assert not schema_is_current(engine)
        migrate(engine)
        assert schema_is_current(engine)
        with engine.connect() as connection:
            info = connection.execute(text("PRAGMA table_info(behaviour_minutes)"))
            columns = [row[1] for row in info]
        assert "denied" in columns, "0016 ran again"
    finally:
        engine.dispose()


def test_opening_a_current_database_does_not_load_alembic(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    engine = open_engine(sqlite_url(path))
    migrate(engine)
    engine.dispose()
    probe = (
        "import sys\n"
        "from goodthings.core.store import migrate, open_engine, sqlite_url\n"
        f"engine = open_engine(sqlite_url({str(path)!r}))\n"
        "migrate(engine)\n"
        "print('alembic' in sys.modules)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "False"
