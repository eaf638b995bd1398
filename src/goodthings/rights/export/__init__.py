"""Everything about a person as a ZIP of JSON and CSV, streamed, optionally encrypted with age;
written to a file, it appears whole or not at all."""

from goodthings.rights.export.archive import (
    ExportError,
    export_subject,
    iter_export,
    parse_recipient,
)
from goodthings.rights.export.to_file import export_to_file, partial_files

__all__ = [
    "ExportError",
    "export_subject",
    "export_to_file",
    "iter_export",
    "parse_recipient",
    "partial_files",
]
