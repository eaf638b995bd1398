"""`goodthings device`: add devices and manage their credentials."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import segno
import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.cli.password import read_password
from goodthings.core.config import Home
from goodthings.core.keys import load_secret_root, load_signing_key
from goodthings.deployment import add_device, check_new_password, manifest_path, open_store
from goodthings.security import (
    BrokerAclError,
    CredentialKind,
    Issued,
    PasswordRefused,
    admin_session,
    credentials,
    fingerprint_key,
    issue_token,
    record_refusal,
)
from goodthings.security.broker_acl import DynsecGate
from goodthings.security.certificates import DEVICE_DAYS, issue_device_certificate, write_bundle
from goodthings.security.monitoring import quarantine as cut_off
from goodthings.security.monitoring import release as let_back

app = typer.Typer(help="Add devices and manage their credentials.", no_args_is_help=True)

DeviceArgument = Annotated[str, typer.Argument(help="The device, as named in the manifest.")]
PasswordOption = Annotated[
    bool,
    typer.Option(
        "--password-from-stdin",
        help="Read a password you chose from standard input instead of generating a token; "
        "it must pass the password policy (see `goodthings password check`).",
    ),
]
QrOption = Annotated[
    Path | None,
    typer.Option(
        "--qr",
        help="Also save the credential as a QR code image (.png or .svg, mode 0600).",
        dir_okay=False,
    ),
]


def _key(home: Home) -> bytes:
    return fingerprint_key(load_secret_root(home.keys_dir))


def _show(issued: Issued, qr_file: Path | None) -> None:
    """Print a generated credential once, as text and as a QR code; never log it."""
    if issued.kind is CredentialKind.password:
        err.print(f"Password set for {issued.device_id} (stored as an argon2id hash only).")
        return
    code = segno.make(issued.secret, error="m")
    art = io.StringIO()
    code.terminal(out=art, compact=True)
    err.print(
        f"Credential for {issued.device_id}, shown once: store it on the device, "
        "never in version control. HTTP: 'Authorization: Bearer <it>'; "
        f"MQTT: username {issued.device_id!r}, password <it>."
    )
    err.print(art.getvalue(), markup=False)
    if qr_file is not None:
        fd = os.open(qr_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            code.save(handle, kind=qr_file.suffix.lstrip(".").lower() or "png", scale=6)
        err.print(f"QR code saved to {qr_file} (mode 0600; delete it once the device has it).")
    out.print(issued.secret, markup=False)


def provision_on_broker(home: Home, issued: Issued) -> None:
    """Give the credential to Mosquitto's dynamic-security plugin, when one is configured."""
    try:
        session = admin_session(home.settings)
        if session is None:
            return
        with session as dynsec:
            dynsec.provision_device(issued.device_id, issued.secret)
    except BrokerAclError as exc:
        err.print(
            f"warning: the credential works over HTTP, but the broker was not updated: {exc}. "
            f"Run `goodthings device rotate {issued.device_id}` again once the broker is up.",
            markup=False,
        )
        raise typer.Exit(1) from None
    err.print(
        f"Broker: client {issued.device_id!r} may publish to gt/{issued.device_id}/up and read "
        f"gt/{issued.device_id}/policy and /down only."
    )


@app.command()
def add(
    device_id: Annotated[str, typer.Argument(help="An id for the new device (e.g. 'meter-2').")],
    model: Annotated[str, typer.Option(help="Its device model, as declared in the manifest.")],
    place: Annotated[str, typer.Option(help="Where it is, a place declared in the manifest.")],
    firmware: Annotated[
        str | None,
        typer.Option(help="Its firmware version (default: the model's newest declared one)."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="A readable name for it.")] = None,
    password_from_stdin: PasswordOption = False,
    qr: QrOption = None,
    home: HomeOption = None,
) -> None:
    """Add a device to the manifest and the store, with its own new credential (shown once)."""
    deployment = home_of(home)
    path = manifest_path(deployment)
    password = read_password() if password_from_stdin else None
    engine = open_store(deployment)
    try:
        issued = add_device(
            engine,
            path,
            device_id=device_id,
            model=model,
            place=place,
            firmware=firmware,
            name=name,
            password=password,
            key=_key(deployment),
        )
    finally:
        engine.dispose()
    err.print(f"Added device {device_id} ({model} at {place}) to {path} and applied it.")
    _show(issued, qr)
    provision_on_broker(deployment, issued)


@app.command()
def rotate(
    device_id: DeviceArgument,
    grace_hours: Annotated[
        float,
        typer.Option(
            min=0, help="How long the old credentials keep working, for the device to switch."
        ),
    ] = 24.0,
    password_from_stdin: PasswordOption = False,
    qr: QrOption = None,
    home: HomeOption = None,
) -> None:
    """Give a device a new credential; the old ones stop after the grace period."""
    deployment = home_of(home)
    key = _key(deployment)
    password = read_password() if password_from_stdin else None
    engine = open_store(deployment)
    try:
        if password is not None:
            check_new_password(engine, device_id, password, key)
        try:
            with engine.begin() as connection:
                issued = credentials.rotate(
                    connection,
                    device_id,
                    grace=timedelta(hours=grace_hours),
                    password=password,
                    key=key,
                )
        except PasswordRefused as refused:
            with engine.begin() as connection:
                record_refusal(connection, device_id, refused.verdict)
            raise
    finally:
        engine.dispose()
    err.print(
        f"New credential for {device_id}; the previous ones work for {grace_hours:g} more "
        "hours, then stop (on Mosquitto, the broker's copy is replaced at once)."
    )
    _show(issued, qr)
    provision_on_broker(deployment, issued)


@app.command()
def cert(
    device_id: DeviceArgument,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Where to write DEVICE-ID.pem, DEVICE-ID.key (0600) and ca.pem.",
            file_okay=False,
        ),
    ],
    days: Annotated[
        int, typer.Option(min=1, max=3650, help="How long the certificate is valid.")
    ] = DEVICE_DAYS,
    home: HomeOption = None,
) -> None:
    """Issue a device's X.509 client certificate from the deployment's CA, for mutual TLS."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        with engine.connect() as connection:
            credentials.require_device(connection, device_id)
    finally:
        engine.dispose()
    issued = issue_device_certificate(deployment.keys_dir, device_id, days)
    cert_path, key_path, ca_path = write_bundle(issued, out_dir)
    out.print(
        f"certificate  {cert_path}  (subject CN={device_id}, valid until {issued.not_after:%Y-%m-%d})"
    )
    out.print(f"private key  {key_path}  (mode 0600: copy it onto the device, then delete it here)")
    out.print(f"CA           {ca_path}  (the device trusts the hub's listeners with it)")


@app.command()
def token(device_id: DeviceArgument, home: HomeOption = None) -> None:
    """Issue an additional bearer token for a device; it is printed once and stored hashed."""
    engine = open_store(home_of(home))
    try:
        with engine.begin() as connection:
            secret = issue_token(connection, device_id)
    finally:
        engine.dispose()
    err.print(
        f"Token for {device_id} (shown once; store it on the device, not in version control):"
    )
    out.print(secret, markup=False)


ReasonOption = Annotated[
    str,
    typer.Option(
        "--reason", help="Why, in plain words: kept in the ledger, shown to the people concerned."
    ),
]


@app.command(name="quarantine")
def quarantine_command(
    device_id: DeviceArgument, reason: ReasonOption, home: HomeOption = None
) -> None:
    """Cut a device off at once: the hub keeps nothing it sends, the broker refuses it."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        held = cut_off(
            engine,
            load_signing_key(deployment.keys_dir),
            device_id,
            reason=reason,
            actor="operator",
            brokers=[DynsecGate(lambda: admin_session(deployment.settings))],
        )
    finally:
        engine.dispose()
    out.print(
        f"{device_id} is quarantined since {held.at:%Y-%m-%d %H:%M} UTC: {held.reason}. "
        f"Release it with `goodthings device release {device_id} --reason …`.",
        markup=False,
    )


@app.command()
def release(device_id: DeviceArgument, reason: ReasonOption, home: HomeOption = None) -> None:
    """Let a quarantined device send again, once you know why it misbehaved."""
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        let_back(
            engine,
            load_signing_key(deployment.keys_dir),
            device_id,
            reason=reason,
            actor="operator",
            brokers=[DynsecGate(lambda: admin_session(deployment.settings))],
        )
    finally:
        engine.dispose()
    out.print(f"{device_id} is released: what it sends is kept again.", markup=False)
