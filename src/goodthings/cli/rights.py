"""`goodthings export` and `goodthings erase`: a person's rights, run by the operator.

The same code paths as the portal's buttons.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Annotated

import pyrage
import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.cli._progress import counted, running
from goodthings.core.keys import HeldKeyError, write_opened
from goodthings.core.keys import open_export as open_held
from goodthings.rights.erasure import erase_subject, pending_requests
from goodthings.rights.export import export_to_file, parse_recipient
from goodthings.runtime import Hub


def export(
    subject_id: Annotated[str, typer.Argument(help="The person, by subject id.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the ZIP (FILE.zip).")],
    recipient: Annotated[
        str | None,
        typer.Option(
            help="Encrypt the ZIP to this age public key (age1…); only its owner can open it."
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Write everything about a person (readings, choices, receipts, ledger) to a ZIP."""
    if recipient is not None:
        parse_recipient(recipient)
    hub = Hub.open(home_of(home))
    try:
        with running(err, f"Exporting the readings of {subject_id}") as watch:
            count = export_to_file(
                hub.engine,
                hub.keyring,
                hub.signer,
                subject_id,
                out_file,
                recipient=recipient,
                watch=watch,
            )
    finally:
        hub.close()
    encrypted = " (encrypted with age)" if recipient else ""
    out.print(f"Exported {count} readings of {subject_id} to {out_file}{encrypted}.")


def erase(
    subject_id: Annotated[str | None, typer.Argument(help="The person, by subject id.")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Erase without asking for confirmation.")
    ] = False,
    keep_aggregates: Annotated[
        bool,
        typer.Option(
            help="Keep daily totals unlinked from the person (default: $GOODTHINGS_ERASURE_KEEP_AGGREGATES)."
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Erase a person: destroy their key, delete their readings, print a signed receipt.

    With no SUBJECT-ID, list the erasure requests still open, with their deadlines.
    """
    deployment = home_of(home)
    hub = Hub.open(deployment)
    try:
        if subject_id is None:
            with hub.engine.connect() as connection:
                requests = pending_requests(connection)
            if not requests:
                out.print("No erasure requests are open.")
            for request in requests:
                out.print(
                    f"{request.subject_id}: requested {request.requested_at:%Y-%m-%d} via "
                    f"{request.method}, deadline {request.deadline:%Y-%m-%d}, {request.state}"
                )
            return
        if not yes:
            typer.confirm(
                f"Erase every reading of {subject_id} and destroy their key? This cannot be undone",
                abort=True,
            )
        settings = deployment.settings
        with counted(err, "Erasing") as step:
            outcome = erase_subject(
                hub.engine,
                hub.keyring,
                hub.signer,
                subject_id,
                method="cli",
                days=settings.erasure_days,
                keep_aggregates=keep_aggregates or settings.erasure_keep_aggregates,
                step=step,
            )
    finally:
        hub.close()
    err.print(
        f"Erased {subject_id}: unreadable after {outcome.unreadable_ms:.1f} ms, "
        f"{outcome.readings_purged} readings deleted"
        + (
            f", {outcome.aggregates_kept} unlinked daily totals kept"
            if outcome.aggregates_kept
            else ""
        )
        + ". Remove them from the manifest too. Their signed receipt:"
    )
    print(outcome.receipt, end="")


def open_export(
    archive: Annotated[
        Path, typer.Argument(help="The export (ZIP) of a person who holds their own key.")
    ],
    identity: Annotated[
        Path,
        typer.Option(
            help="The person's age identity file (AGE-SECRET-KEY-1…), e.g. from age-keygen."
        ),
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the decrypted readings (CSV).")
    ],
) -> None:
    """Decrypt the readings in an export that only their owner can read (held-readings.csv)."""
    no_identity = f"{identity} holds no age identity (a line starting AGE-SECRET-KEY-)"
    lines = identity.read_bytes().decode("utf-8", "replace").splitlines()
    secret = next((line.strip() for line in lines if line.startswith("AGE-SECRET-KEY-")), None)
    if secret is None:
        raise HeldKeyError(no_identity)
    try:
        key = pyrage.x25519.Identity.from_str(secret)
    except pyrage.IdentityError:
        raise HeldKeyError(no_identity) from None
    try:
        zipped = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise HeldKeyError(f"{archive} is not an export (not a ZIP archive)") from None
    opened = open_held(zipped, key)
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        count = write_opened(opened, handle)
    out.print(f"Decrypted {count} readings to {out_file}.")
