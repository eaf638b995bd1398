"""How fast a person's full export runs: every reading about them read, decrypted and written.

`export_readings_per_s`: the bench exports the person it is about to erase, as `goodthings
export` does (the ZIP written to a file, recorded in the ledger), and divides the readings in
the archive by the time it took. The figure only counts if the archive holds what it claims: the
bench opens the written ZIP, counts the rows of its `readings.csv`, each with a decrypted value,
and compares them with what the export reported and with the person's readings in the store.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.bench.load import BenchError
from goodthings.core.config import Home
from goodthings.core.keys import Keyring, KeyVault, load_master_key
from goodthings.core.store import Selection, count_readings
from goodthings.rights.export import export_subject


@dataclass(frozen=True)
class ExportFigures:
    readings_per_s: float
    readings: int
    """The rows of the archive's readings.csv."""


def measure_export(
    home: Home, engine: Engine, signer: Ed25519PrivateKey, subject_id: str, out: Path
) -> ExportFigures:
    """Export `subject_id` to `out` and check the archive against the store."""
    keyring = Keyring(load_master_key(home.keys_dir), KeyVault.of(home))
    with engine.connect() as connection:
        stored = count_readings(connection, Selection(subject_id=subject_id))
    with out.open("wb") as handle:
        started = time.perf_counter()
        reported = export_subject(engine, keyring, signer, subject_id, handle)
        elapsed = time.perf_counter() - started
    rows = _rows(out)
    # The export also holds readings of places the person shares (a household meter), which
    # the store counts under no one: so at least their own, and exactly what it reported.
    if rows != reported or rows < stored:
        raise BenchError(
            f"the export of {subject_id} holds {rows} readings and reported {reported}, and the "
            f"store has {stored} of their own: the export lost or invented readings"
        )
    if rows == 0:
        raise BenchError(f"the bench found no readings of {subject_id} to export")
    return ExportFigures(rows / elapsed, rows)


def _rows(archive_path: Path) -> int:
    with zipfile.ZipFile(archive_path) as archive, archive.open("readings.csv") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        header = next(reader)
        value = header.index("value")
        count = 0
        for row in reader:
            if not row[value]:
                raise BenchError("the export holds a reading whose value was not decrypted")
            count += 1
    return count
