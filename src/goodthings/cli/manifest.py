"""`goodthings manifest check|schema`: validate a manifest, or print its JSON Schema for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.manifest import Manifest, load_manifest
from goodthings.deployment import manifest_path

app = typer.Typer(
    help="Check a deployment manifest, or print its JSON Schema.", no_args_is_help=True
)


@app.command()
def check(
    file: Annotated[
        Path | None, typer.Argument(help="The manifest to check (default: the deployment's).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Validate a manifest; exit 1 and list every problem (file:line, field) when it is invalid."""
    loaded = load_manifest(manifest_path(home_of(home), file))
    for warning in loaded.warnings:
        err.print(f"warning: {warning}", markup=False)
    manifest = loaded.manifest
    streams = sum(len(model.streams) for model in manifest.device_models)
    out.print(
        f"{loaded.source} is valid: {len(manifest.places)} places, {len(manifest.devices)} devices, "
        f"{streams} streams, {len(manifest.applications)} applications."
    )


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (point your editor's YAML support at it for completion)."""
    document = Manifest.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "goodthings deployment manifest"
    print(json.dumps(document, indent=2))
