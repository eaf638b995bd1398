"""Everything about a person as a ZIP of JSON and CSV, streamed, optionally encrypted with age."""

from goodthings.rights.export.archive import (
    ExportError,
    export_subject,
    iter_export,
    parse_recipient,
)

__all__ = ["ExportError", "export_subject", "iter_export", "parse_recipient"]
