"""The store: the schema (SQLite or PostgreSQL), its migrations, and the few paths that write
and read it in bulk, so the rest of the hub shares one definition of every table.

The table modules are public as namespaces (`from goodthings.core.store import tables as t`).
"""

from goodthings.core.store import (
    declared,
    monitoring,
    partitions,
    tables,
    tables_console,
    tables_monitoring,
    tables_portal,
    tables_security,
    tables_transparency,
)
from goodthings.core.store.activity import latest_by_device, readings_per_minute
from goodthings.core.store.catalogue import Catalogue, read_catalogue
from goodthings.core.store.declared import stored_text
from goodthings.core.store.engine import (
    migrate,
    normalise_url,
    open_engine,
    schema_is_current,
    sqlite_url,
)
from goodthings.core.store.readings import (
    Order,
    ReadingColumns,
    ReadingRow,
    Selection,
    StoredReading,
    copy_new_readings,
    count_by_stream,
    count_by_subject,
    count_in_clear,
    count_readings,
    delete_by_id,
    delete_readings,
    insert_packs,
    insert_readings,
    last_id,
    latest_time,
    moment_of,
    oldest_by_stream,
    select_reading_columns,
    select_readings,
)
from goodthings.core.store.refused import (
    RefusedPack,
    count_refused_by_reason,
    record_refused,
    select_refused,
)
from goodthings.core.store.replica import ReadReplica

__all__ = [
    "Catalogue",
    "Order",
    "ReadReplica",
    "ReadingColumns",
    "ReadingRow",
    "RefusedPack",
    "Selection",
    "StoredReading",
    "copy_new_readings",
    "count_by_stream",
    "count_by_subject",
    "count_in_clear",
    "count_readings",
    "count_refused_by_reason",
    "declared",
    "delete_by_id",
    "delete_readings",
    "insert_packs",
    "insert_readings",
    "last_id",
    "latest_by_device",
    "latest_time",
    "migrate",
    "moment_of",
    "monitoring",
    "normalise_url",
    "oldest_by_stream",
    "open_engine",
    "partitions",
    "read_catalogue",
    "readings_per_minute",
    "record_refused",
    "schema_is_current",
    "select_reading_columns",
    "select_readings",
    "select_refused",
    "sqlite_url",
    "stored_text",
    "tables",
    "tables_console",
    "tables_monitoring",
    "tables_portal",
    "tables_security",
    "tables_transparency",
]
