"""An export written to a file that appears whole or not at all.

The ZIP is written to a hidden temporary file beside the target (`.NAME.XXXX.partial`, mode
0600), flushed to disk and ledgered, and only then renamed to its name: a process killed
half-way never leaves a truncated archive under the name the person would take for complete,
and an older export of that name stays intact until the new one replaces it. What a kill
leaves behind is a `.partial` file, which the next export to the same name removes.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from goodthings.core.keys import Keyring
from goodthings.rights.export.archive import export_subject

PARTIAL = ".partial"


def partial_files(target: Path) -> list[Path]:
    """Temporary files that exports to `target` killed half-way left behind."""
    return sorted(target.parent.glob(f".{target.name}.*{PARTIAL}"))


def export_to_file(
    engine: Engine,
    keyring: Keyring,
    signer: Ed25519PrivateKey,
    subject_id: str,
    target: Path,
    *,
    recipient: str | None = None,
    watch: Callable[[int], None] | None = None,
) -> int:
    """Write the person's export to `target` atomically; returns how many readings it holds."""
    for leftover in partial_files(target):
        leftover.unlink(missing_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            count = export_subject(
                engine, keyring, signer, subject_id, out, recipient=recipient, watch=watch
            )
            out.flush()
            os.fsync(out.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(target.parent)
    return count


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
