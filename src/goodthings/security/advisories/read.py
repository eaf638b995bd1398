"""Read one advisory file, telling OSV from CSAF by its shape."""

from __future__ import annotations

import json
from pathlib import Path

from goodthings.security.advisories.csaf import parse_csaf
from goodthings.security.advisories.model import Advisory, AdvisoryError
from goodthings.security.advisories.osv import parse_osv


def read_advisory(path: Path) -> Advisory:
    """Parse an OSV record or a CSAF 2.0 document in JSON."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdvisoryError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(document, dict):
        document = {}
    try:
        if "csaf_version" in (document.get("document") or {}):
            return parse_csaf(document)
        if "id" in document and "modified" in document:
            return parse_osv(document)
    except (KeyError, TypeError, AttributeError) as exc:
        raise AdvisoryError(f"{path}: a required field is missing or malformed: {exc}") from None
    except AdvisoryError as exc:
        raise AdvisoryError(f"{path}: {exc}") from None
    raise AdvisoryError(
        f"{path}: neither an OSV record (with 'id' and 'modified') nor a CSAF advisory "
        "(with 'document.csaf_version')"
    )
