"""`goodthings mud`: Manufacturer Usage Descriptions (RFC 8520)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.core.manifest import load_manifest
from goodthings.deployment import manifest_path
from goodthings.security.mud import MUD_FOLDER, MudFetchError, fetch_mud, load_mud, nft_ruleset
from goodthings.security.mud import generate as generate_mud

app = typer.Typer(help="Manufacturer Usage Descriptions (RFC 8520).", no_args_is_help=True)


@app.command()
def check(
    file: Annotated[Path, typer.Argument(help="The MUD file (JSON).", dir_okay=False)],
) -> None:
    """Check a MUD file's structure and say in plain words what the device may talk to."""
    mud = load_mud(file)
    out.print(f"{file}: a valid MUD file for {mud.systeminfo or mud.url}", markup=False)
    if not mud.supported:
        out.print("  its maker no longer supports the device (is-supported: false)")
    for rule in mud.rules:
        out.print(f"  the device {rule.words()}", markup=False)
    if not mud.rules:
        out.print("  the device may talk to nothing (no access list is named)")


@app.command()
def fetch(
    model_id: Annotated[str, typer.Argument(help="The device model, as named in the manifest.")],
    ca: Annotated[
        Path | None,
        typer.Option("--ca", help="The CA (PEM) of the maker's web server, if not a public one."),
    ] = None,
    signer_ca: Annotated[
        Path | None,
        typer.Option("--signer-ca", help="The maker's MUD signing certificate or its CA (PEM)."),
    ] = None,
    unsigned: Annotated[
        bool, typer.Option("--unsigned", help="Take a MUD file that is not signed.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Fetch a model's MUD file from its mud_url, check it and its signature, and keep it."""
    deployment = home_of(home)
    manifest = load_manifest(manifest_path(deployment)).manifest
    model = manifest.models_by_id.get(model_id)
    if model is None:
        known = ", ".join(sorted(manifest.models_by_id))
        raise GoodthingsError(f"there is no device model {model_id!r}; the models are: {known}")
    if not model.mud_url:
        raise MudFetchError(
            f"model {model_id!r} names no mud_url in the manifest; write one with "
            f"`goodthings mud generate {model_id}` instead"
        )
    fetched = fetch_mud(model.mud_url, ca=ca, signer_ca=signer_ca, unsigned_ok=unsigned)
    folder = deployment.root / MUD_FOLDER
    folder.mkdir(exist_ok=True)
    target = folder / f"{model_id}.json"
    target.write_bytes(fetched.content)
    if fetched.signature is not None:
        target.with_suffix(".p7s").write_bytes(fetched.signature)
        out.print(f"Signed by {fetched.signer}; the signature holds.", markup=False)
    else:
        out.print("Not signed: taken because --unsigned was given.")
    out.print(
        f"Kept as {target}: a valid MUD file for {fetched.mud.systeminfo or fetched.mud.url}",
        markup=False,
    )
    for rule in fetched.mud.rules:
        out.print(f"  the device {rule.words()}", markup=False)


ControllerOption = Annotated[
    str,
    typer.Option("--controller", help="The hub's host name or address, as the devices reach it."),
]


@app.command()
def generate(
    model_id: Annotated[str, typer.Argument(help="The device model, as named in the manifest.")],
    controller: ControllerOption,
    ports: Annotated[
        list[int] | None,
        typer.Option("--port", help="A port the devices use on the hub (default: 1883 and 8080)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Write a MUD file for a model: its devices may reach the hub, and nothing else."""
    manifest = load_manifest(manifest_path(home_of(home))).manifest
    model = manifest.models_by_id.get(model_id)
    if model is None:
        known = ", ".join(sorted(manifest.models_by_id))
        raise GoodthingsError(f"there is no device model {model_id!r}; the models are: {known}")
    mud = generate_mud(
        model_id=model.id,
        systeminfo=f"{model.manufacturer} {model.model}",
        mud_url=model.mud_url or f"https://{controller}/mud/{model.id}.json",
        controller=controller,
        ports=ports or [1883, 8080],
        supported=date.today() <= model.support_until,
    )
    out.print_json(json.dumps(mud))


@app.command()
def nft(
    file: Annotated[Path, typer.Argument(help="The MUD file (JSON).", dir_okay=False)],
    device_ip: Annotated[str, typer.Option("--device-ip", help="The device's IPv4 address.")],
    controller: ControllerOption,
) -> None:
    """Print an nftables ruleset (for `nft -f`) that lets the device reach only what it may."""
    mud = load_mud(file)
    out.print(nft_ruleset(mud.rules, device=device_ip, controller=controller), markup=False)
