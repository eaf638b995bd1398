"""`goodthings report`: documents for auditors and data protection officers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.deployment import open_store
from goodthings.transparency.notices import applied_manifest
from goodthings.transparency.reports import build_record, held_now, to_html, to_pdf

app = typer.Typer(help="Reports for auditors: records of processing.", no_args_is_help=True)

_STORAGE = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


@app.command()
def processing(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the report: FILE.html or FILE.pdf.")
    ],
    home: HomeOption = None,
) -> None:
    """Write the records of processing (GDPR Art. 30 shape) and a privacy impact summary."""
    kind = out_file.suffix.lower()
    if kind not in {".html", ".pdf"}:
        raise GoodthingsError(f"write the report to a .html or .pdf file, not {out_file.name!r}")
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            manifest = applied_manifest(connection)
            held = held_now(connection)
        storage = _STORAGE.get(engine.dialect.name, engine.dialect.name)
    finally:
        engine.dispose()
    if manifest is None:
        raise GoodthingsError("no manifest has been applied yet; run `goodthings apply`")
    record = build_record(manifest, held, storage)
    if kind == ".pdf":
        out_file.write_bytes(to_pdf(record))
    else:
        out_file.write_text(to_html(record), encoding="utf-8")
    activities, streams = len(record.activities), len(record.personal_streams)
    out.print(
        f"Wrote the records of processing ({activities} "
        f"activit{'y' if activities == 1 else 'ies'} over {streams} personal "
        f"stream{'' if streams == 1 else 's'}) to {out_file}",
        markup=False,
    )
