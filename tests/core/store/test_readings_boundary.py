"""Only `goodthings.core.store` touches the readings table: every other module reads, deletes
and counts readings through `core.store.readings`, so the read path cannot be bypassed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[3] / "src" / "goodthings"
STORE = SOURCE / "core" / "store"
TABLE = "readings"
# SQL that names the table: FROM/JOIN/INTO/UPDATE/TABLE readings, as a word of its own.
_SQL = re.compile(rf"\b(from|join|into|update|table)\s+{TABLE}\b", re.IGNORECASE)


def touches_readings_table(source: str) -> list[str]:
    """Where `source` uses the readings table: `<anything>.readings` on a module of tables,
    `tables.readings` imported by name, or SQL text naming the table."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("tables"):
            found += [f"line {node.lineno}: import" for a in node.names if a.name == TABLE]
        elif isinstance(node, ast.Attribute) and node.attr == TABLE:
            if isinstance(node.value, ast.Name) and node.value.id in {"t", "tables"}:
                found.append(f"line {node.lineno}: {node.value.id}.{TABLE}")
            elif isinstance(node.value, ast.Attribute) and node.value.attr == "tables":
                found.append(f"line {node.lineno}: tables.{TABLE}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _SQL.search(node.value)
        ):
            found.append(f"line {node.lineno}: SQL {node.value[:60]!r}")
    return found


def _outside_store() -> list[Path]:
    return [
        path
        for path in sorted(SOURCE.rglob("*.py"))
        if STORE not in path.parents and "migrations" not in path.parts
    ]


def test_no_module_outside_the_store_touches_the_readings_table() -> None:
    offenders = {
        str(path.relative_to(SOURCE)): where
        for path in _outside_store()
        if (where := touches_readings_table(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "read and delete readings through goodthings.core.store.readings"


def test_the_scan_covers_the_whole_package() -> None:
    scanned = {path.relative_to(SOURCE).parts[0] for path in _outside_store()}
    assert {"portal", "rights", "transparency", "bench", "web", "ingest"} <= scanned


@pytest.mark.parametrize(
    "bad",
    [
        "from goodthings.core.store import tables as t\nt.readings.c.time\n",
        "from goodthings.core.store import tables\nselect(tables.readings)\n",
        "import goodthings.core.store.tables\ngoodthings.core.store.tables.readings\n",
        "from goodthings.core.store.tables import readings\n",
        'text("SELECT max(id) FROM readings")\n',
        'sql = "SELECT r.time FROM streams s JOIN readings r ON r.stream_id = s.id"\n',
        'cursor.execute("DELETE FROM readings WHERE id = ?")\n',
        'cursor.execute("insert into readings (time) values (1)")\n',
    ],
)
def test_the_scan_catches_each_way_of_touching_the_table(bad: str) -> None:
    assert touches_readings_table(bad)


@pytest.mark.parametrize(
    "fine",
    [
        "result.readings\n",
        "count.readings += 1\n",
        '"We deleted %(num)d readings we held about it."\n',
        '"readings from shared places are kept"\n',
        "from goodthings.core.store.readings import Selection, select_readings\n",
        "t.readings_total\n",
    ],
)
def test_the_scan_leaves_words_and_the_read_side_alone(fine: str) -> None:
    assert touches_readings_table(fine) == []
