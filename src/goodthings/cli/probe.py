"""`goodthings probe`: the auditor's look at the network for default logins and cleartext."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path
from typing import Annotated

import typer

from goodthings.assessment.probe import (
    COMMON_PORTS,
    Bounds,
    DeclaredUsage,
    keep_report,
    kept_usage,
    run_probe,
    scope_of,
)
from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.core.keys import load_signing_key
from goodthings.core.ledger import append, content_digest
from goodthings.deployment.directory import open_store


def probe(
    targets: Annotated[
        list[str],
        typer.Option("--targets", help="An address or range to probe (repeat for more)."),
    ],
    authorised_by: Annotated[
        str,
        typer.Option(
            "--authorised-by",
            help="Who allowed this probe of these ranges (name, role, date): it is recorded.",
        ),
    ],
    attempts: Annotated[
        int, typer.Option(min=1, max=100, help="Username and password pairs tried per service.")
    ] = 10,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=30, help="Seconds for each connection or answer.")
    ] = 3.0,
    deadline: Annotated[
        float, typer.Option(min=1, max=3600, help="Seconds for the whole probe.")
    ] = 300.0,
    devices: Annotated[
        list[str] | None,
        typer.Option(
            "--device",
            help="ADDRESS=MODEL: the device at ADDRESS is of MODEL, whose kept MUD file "
            "(mud/MODEL.json) declares the ports it may be reached on (repeat for more).",
        ),
    ] = None,
    ports: Annotated[
        list[int] | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="Another TCP port to look at on each --device (repeat for more).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    home: HomeOption = None,
) -> None:
    """Look for telnet, SSH, HTTP and MQTT services in the given ranges that accept a default
    or breached password, or send passwords in clear, and, on each --device, for open ports its
    model's declared usage does not name; only there, on the authority you state. The report is
    kept in the deployment and becomes evidence for `goodthings assess`."""
    scope = scope_of(targets, authorised_by)
    deployment = home_of(home)
    usage = _usage(deployment.root, devices or [])
    err.print(
        f"Probing {', '.join(targets)} on the authority of {scope.authorised_by} "
        f"(at most {attempts} tries per service, {deadline:.0f} s in all) ...",
        markup=False,
    )
    bounds = Bounds(
        attempts=attempts,
        timeout=timeout,
        deadline=deadline,
        ports=tuple(sorted(set(COMMON_PORTS) | set(ports or []))),
    )
    report = run_probe(scope, bounds, usage)
    path = keep_report(deployment.root, report)
    document = report.as_document()
    engine = open_store(deployment)
    try:
        with engine.begin() as connection:
            append(
                connection,
                load_signing_key(deployment.keys_dir),
                actor=f"auditor:{scope.authorised_by}"[:255],
                action="probe.run",
                target=",".join(report.targets)[:255],
                counts={"hosts": report.hosts_probed, "findings": len(report.findings)},
                digest=content_digest([json.dumps(document, sort_keys=True).encode()]),
            )
    finally:
        engine.dispose()
    if as_json:
        out.print(json.dumps(document, indent=2), markup=False)
    else:
        for finding in report.findings:
            out.print(f"FOUND  {finding.address}:{finding.port}  {finding.detail}", markup=False)
        out.print(
            f"{report.hosts_probed} address(es) probed, {len(report.services_found)} service(s) "
            f"found, {report.attempts} sign-in attempt(s), "
            f"{len(report.usage_checked)} device(s) compared with their declared usage, "
            f"{len(report.findings)} problem(s)"
            + (" (stopped at the deadline)" if report.stopped_early else "")
            + f"; kept as {path}.",
            markup=False,
        )
    if report.findings:
        raise typer.Exit(1)


def _usage(root: Path, devices: list[str]) -> dict[str, DeclaredUsage]:
    """Each `--device ADDRESS=MODEL`'s declared usage, from the model's kept MUD file."""
    usage = {}
    for device in devices:
        address, equals, model_id = device.partition("=")
        if not equals or not address.strip() or not model_id.strip():
            raise GoodthingsError(f"--device {device!r}: write it as ADDRESS=MODEL")
        try:
            ip_address(address.strip())
        except ValueError:
            raise GoodthingsError(f"--device {device!r}: {address!r} is not an address") from None
        usage[address.strip()] = kept_usage(root, model_id.strip())
    return usage
