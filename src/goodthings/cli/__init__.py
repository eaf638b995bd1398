"""The `goodthings` command: one Typer app, one module per command group."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from goodthings import __version__
from goodthings.cli import (
    _common,
    advisories,
    application,
    assess,
    backup,
    bench,
    campaign,
    consent,
    deployment,
    deployment_settings,
    device,
    ingest,
    keys,
    ledger,
    manifest,
    monitor,
    mud,
    notice,
    objection,
    operator,
    password,
    probe,
    receipt,
    report,
    requests,
    retention,
    rights,
    senml,
    serve,
    share,
    sign,
    subject,
)
from goodthings.core.errors import GoodthingsError

__all__ = ["EXIT_BUG", "TRACEBACK_VARIABLE", "app", "main"]

app = typer.Typer(
    name="goodthings",
    help=(
        "goodthings: an IoT data hub where good practice is the default.\n\n"
        "Start with `goodthings demo`, or `goodthings init DIR` to create your own deployment, "
        "edit DIR/goodthings.yaml, then `goodthings apply` and `goodthings serve`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(deployment.init)
app.command()(deployment.apply)
app.command()(serve.serve)
app.command()(serve.demo)
app.command()(bench.bench)
app.command()(backup.backup)
app.command()(backup.restore)
app.command()(notice.notice)
app.command()(sign.sign)
app.command()(probe.probe)
app.add_typer(assess.app, name="assess")
app.add_typer(manifest.app, name="manifest")
app.add_typer(deployment_settings.app, name="deployment")
app.add_typer(device.app, name="device")
app.add_typer(monitor.app, name="monitor")
app.add_typer(mud.app, name="mud")
app.add_typer(consent.app, name="consent")
app.add_typer(ledger.app, name="ledger")
app.add_typer(keys.app, name="keys")
app.add_typer(senml.app, name="senml")
app.add_typer(ingest.app, name="ingest")
app.add_typer(password.app, name="password")
app.add_typer(operator.app, name="operator")
app.add_typer(advisories.app, name="advisories")
app.add_typer(campaign.app, name="campaign")
app.add_typer(subject.app, name="subject")
app.add_typer(receipt.app, name="receipt")
app.command()(rights.export)
app.command()(rights.erase)
app.command(name="open-export")(rights.open_export)
app.add_typer(application.app, name="application")
app.add_typer(retention.app, name="retention")
app.add_typer(report.app, name="report")
app.add_typer(share.app, name="share")
app.add_typer(objection.app, name="objection")
app.add_typer(requests.app, name="requests")


def _version(value: bool) -> None:
    if value:
        print(f"goodthings {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """goodthings: an IoT data hub where good practice is the default."""


TRACEBACK_VARIABLE = "GOODTHINGS_TRACEBACK"
"""Set it (to anything) to see the traceback of an unexpected error instead of one line."""
EXIT_BUG = 70
"""sysexits' EX_SOFTWARE: the command failed because of a bug, not because of its input."""


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI; errors goodthings raises on purpose become a message and exit status 1.

    A file the command could not read or write (missing, a directory, no permission) or a
    port it could not use is the user's to fix too: one line naming it, exit status 1. Anything else is a bug: one line
    saying so and how to see the traceback, exit status 70.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="goodthings")
    except GoodthingsError as exc:
        _common.err.print(f"error: {exc}", markup=False)
        sys.exit(1)
    except OSError as exc:
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        where = f"{exc.filename}: " if exc.filename is not None else ""
        _common.err.print(f"error: {where}{exc.strerror or exc}", markup=False)
        sys.exit(1)
    except Exception as exc:
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        what = " ".join(str(exc).split())
        _common.err.print(
            f"error: unexpected {type(exc).__name__}{': ' + what if what else ''}. This is a "
            f"bug in goodthings: run the command again with {TRACEBACK_VARIABLE}=1 to see "
            "where it happened, and please report it.",
            markup=False,
        )
        sys.exit(EXIT_BUG)
