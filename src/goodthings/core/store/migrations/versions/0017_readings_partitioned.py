"""readings: partitioned by month on PostgreSQL (declarative partitioning); SQLite unchanged

Revision ID: 0017
Revises: 0016

The table is made again as a partitioned one and the rows are copied over in this migration's
transaction, ids and all; the id sequence carries on. A partitioned table's unique keys must
hold the partition key, so the primary key becomes (id, time): ids still come from one
sequence, and the unique (stream, device, time, ordinal) key that de-duplicates ingest already
holds the time.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from goodthings.core.store import partitions

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COPY_ROWS = (
    "INSERT INTO readings "
    "(id, device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed) "
    "SELECT id, device_id, stream_id, subject_id, time, ordinal, value, value_text, sealed "
    "FROM {source}"
)
_CREATE = """
CREATE TABLE readings (
    id bigint NOT NULL DEFAULT nextval('readings_id_seq'),
    device_id varchar(63) NOT NULL,
    stream_id integer NOT NULL,
    subject_id varchar(63),
    time double precision NOT NULL,
    ordinal smallint NOT NULL DEFAULT 0,
    value double precision,
    value_text text,
    sealed bytea,
    CONSTRAINT pk_readings PRIMARY KEY (id, time),
    CONSTRAINT uq_readings_stream_device_time_ordinal
        UNIQUE (stream_id, device_id, time, ordinal)
) PARTITION BY RANGE (time)
"""


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE readings RENAME TO readings_unpartitioned")
    op.execute("ALTER TABLE readings_unpartitioned RENAME CONSTRAINT pk_readings TO pk_old")
    op.execute(
        "ALTER TABLE readings_unpartitioned RENAME CONSTRAINT "
        "uq_readings_stream_device_time_ordinal TO uq_old"
    )
    op.execute("ALTER INDEX ix_readings_subject RENAME TO ix_old_subject")
    op.execute(_CREATE)
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY readings.id")
    op.execute("CREATE INDEX ix_readings_subject ON readings (subject_id)")
    op.execute(f"CREATE TABLE {partitions.DEFAULT} PARTITION OF readings DEFAULT")
    first, last = connection.execute(
        text(
            "SELECT min(time), max(time) FROM readings_unpartitioned "
            "WHERE time >= 0 AND time < 253402300800"
        )
    ).one()
    now = connection.execute(text("SELECT extract(epoch FROM now())")).scalar_one()
    wanted = partitions.months_between(first, last) if first is not None else []
    partitions.ensure_months(connection, wanted)
    partitions.ensure_ahead(connection, float(now))
    # Only times a month partition can hold (years 1970 to 9999) get one; others stay in the
    # default partition.
    op.execute(_COPY_ROWS.format(source="readings_unpartitioned"))
    op.execute("DROP TABLE readings_unpartitioned")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE readings RENAME TO readings_partitioned")
    op.execute("ALTER TABLE readings_partitioned RENAME CONSTRAINT pk_readings TO pk_old")
    op.execute(
        "ALTER TABLE readings_partitioned RENAME CONSTRAINT "
        "uq_readings_stream_device_time_ordinal TO uq_old"
    )
    op.execute("ALTER INDEX ix_readings_subject RENAME TO ix_old_subject")
    op.execute(
        _CREATE.replace("PRIMARY KEY (id, time)", "PRIMARY KEY (id)").replace(
            "PARTITION BY RANGE (time)", ""
        )
    )
    op.execute("ALTER SEQUENCE readings_id_seq OWNED BY readings.id")
    op.execute("CREATE INDEX ix_readings_subject ON readings (subject_id)")
    op.execute(_COPY_ROWS.format(source="readings_partitioned"))
    op.execute("DROP TABLE readings_partitioned")
