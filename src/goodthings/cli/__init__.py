"""The `goodthings` command: one Typer app, one module per command group, each loaded when used."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import typer

from goodthings import __version__
from goodthings.cli import _common, _lazy
from goodthings.core.errors import GoodthingsError

__all__ = ["COMMANDS", "EXIT_BUG", "TRACEBACK_VARIABLE", "app", "main"]

COMMANDS = (
    _lazy.Lazy(
        "init",
        "goodthings.cli.deployment:init",
        "Create a working deployment: manifest, settings, database, master key and signing key.",
    ),
    _lazy.Lazy(
        "apply",
        "goodthings.cli.deployment:apply",
        "Validate the manifest and bring the store in line with it, printing the plan first.",
    ),
    _lazy.Lazy(
        "serve",
        "goodthings.cli.serve:serve",
        "Run the hub for a deployment: web pages, HTTP and MQTT ingest (stop with Ctrl-C).",
    ),
    _lazy.Lazy(
        "demo",
        "goodthings.cli.serve:demo",
        "Run the smart-home example with simulated devices, on a throwaway deployment.",
    ),
    _lazy.Lazy(
        "bench",
        "goodthings.cli.bench:bench",
        "Measure ingest throughput, latency, withdrawal delay and memory on this machine.",
    ),
    _lazy.Lazy(
        "backup",
        "goodthings.cli.backup:backup",
        "Snapshot the database and the ledger's head into DEST; the keys are not in it.",
    ),
    _lazy.Lazy(
        "restore",
        "goodthings.cli.backup:restore",
        "Put the backup in SRC back as the database (stop the hub first), then re-apply every erasure made since it was taken.",
    ),
    _lazy.Lazy(
        "notice",
        "goodthings.cli.notice:notice",
        "Print what is collected, why, who receives it and for how long, from the applied manifest.",
    ),
    _lazy.Lazy(
        "sign",
        "goodthings.cli.sign:sign",
        "Make a printable sign for a place: icons, the accountable operator, a QR code.",
    ),
    _lazy.Lazy(
        "probe",
        "goodthings.cli.probe:probe",
        "Look for telnet, SSH, HTTP and MQTT services in the given ranges that accept a default or breached password, or send passwords in clear, and, on each --device, for open ports its model's declared usage does not name; only there, on the authority you state. The report is kept in the deployment and becomes evidence for `goodthings assess`.",
    ),
    _lazy.Lazy(
        "assess",
        "goodthings.cli.assess:app",
        "Check the deployment against the controls catalogue from its live state, sign the report, and let anyone verify it offline.",
    ),
    _lazy.Lazy(
        "manifest",
        "goodthings.cli.manifest:app",
        "Check a deployment manifest, or print its JSON Schema.",
    ),
    _lazy.Lazy(
        "deployment",
        "goodthings.cli.deployment_settings:app",
        "How this deployment runs: the database and public address in its settings file.",
    ),
    _lazy.Lazy("device", "goodthings.cli.device:app", "Add devices and manage their credentials."),
    _lazy.Lazy(
        "monitor",
        "goodthings.cli.monitor:app",
        "What abuse monitoring found, and which devices are quarantined.",
    ),
    _lazy.Lazy("mud", "goodthings.cli.mud:app", "Manufacturer Usage Descriptions (RFC 8520)."),
    _lazy.Lazy(
        "consent", "goodthings.cli.consent:app", "Record a person's consent, or show their choices."
    ),
    _lazy.Lazy(
        "ledger",
        "goodthings.cli.ledger:app",
        "Check the ledger of every decision about personal data.",
    ),
    _lazy.Lazy("keys", "goodthings.cli.keys:app", "Rotate the deployment's keys."),
    _lazy.Lazy("senml", "goodthings.cli.senml:app", "Debug SenML payloads (RFC 8428)."),
    _lazy.Lazy(
        "ingest", "goodthings.cli.ingest:app", "See what devices sent that the hub refused."
    ),
    _lazy.Lazy(
        "password", "goodthings.cli.password:app", "Check device passwords against the policy."
    ),
    _lazy.Lazy(
        "operator",
        "goodthings.cli.operator:app",
        "Operator accounts for the console: add, list, reset, remove.",
    ),
    _lazy.Lazy(
        "advisories",
        "goodthings.cli.advisories:app",
        "Import security advisories and see which devices they affect.",
    ),
    _lazy.Lazy(
        "campaign",
        "goodthings.cli.campaign:app",
        "Record firmware update campaigns and follow their progress.",
    ),
    _lazy.Lazy(
        "subject",
        "goodthings.cli.subject:app",
        "The people the data is about: invite them to their portal.",
    ),
    _lazy.Lazy("receipt", "goodthings.cli.receipt:app", "Check signed receipts people were given."),
    _lazy.Lazy(
        "export",
        "goodthings.cli.rights:export",
        "Write everything about a person (readings, choices, receipts, ledger) to a ZIP.",
    ),
    _lazy.Lazy(
        "erase",
        "goodthings.cli.rights:erase",
        "Erase a person: destroy their key, delete their readings, print a signed receipt.",
    ),
    _lazy.Lazy(
        "open-export",
        "goodthings.cli.rights:open_export",
        "Decrypt the readings in an export that only their owner can read (held-readings.csv).",
    ),
    _lazy.Lazy(
        "application", "goodthings.cli.application:app", "Manage applications' access credentials."
    ),
    _lazy.Lazy(
        "retention",
        "goodthings.cli.retention:app",
        "Purge readings kept longer than their retention period.",
    ),
    _lazy.Lazy(
        "report", "goodthings.cli.report:app", "Reports for auditors: records of processing."
    ),
    _lazy.Lazy(
        "share",
        "goodthings.cli.share:app",
        "Share readings with the recipients the manifest declares.",
    ),
    _lazy.Lazy(
        "objection",
        "goodthings.cli.objection:app",
        "Record a person's objection to automated decisions and profiling.",
    ),
    _lazy.Lazy("requests", "goodthings.cli.requests:app", "People's requests and their deadlines."),
)
"""Every command, in the order `--help` lists them; a module is imported only when its command runs.

A new command is one line here: its name, "goodthings.cli.MODULE:ATTRIBUTE" (a command
function or a Typer app for a group), and the first line of its help.
"""


class _Commands(_lazy.LazyGroup):
    lazy = COMMANDS


app = typer.Typer(
    name="goodthings",
    cls=_Commands,
    help=(
        "goodthings: an IoT data hub where good practice is the default.\n\n"
        "Start with `goodthings demo`, or `goodthings init DIR` to create your own deployment, "
        "edit DIR/goodthings.yaml, then `goodthings apply` and `goodthings serve`."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


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
