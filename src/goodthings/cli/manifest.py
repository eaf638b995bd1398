"""`goodthings manifest check|schema`: validate a manifest, or print its JSON Schema for editors."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.errors import ManifestError
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
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the verdict, counts or problems as one JSON document."),
    ] = False,
) -> None:
    """Validate a manifest; exit 1 and list every problem (file:line, field) when it is invalid."""
    path = manifest_path(home_of(home), file)
    if as_json:
        _check_as_json(path)
        return
    loaded = load_manifest(path)
    for warning in loaded.warnings:
        err.print(f"warning: {warning}", markup=False)
    manifest = loaded.manifest
    streams = sum(len(model.streams) for model in manifest.device_models)
    out.print(
        f"{loaded.source} is valid: {len(manifest.places)} places, {len(manifest.devices)} devices, "
        f"{streams} streams, {len(manifest.applications)} applications."
    )


def _check_as_json(path: Path) -> None:
    try:
        loaded = load_manifest(path)
    except ManifestError as exc:
        problems = [asdict(problem) for problem in exc.problems]
        print(json.dumps({"valid": False, "file": str(path), "problems": problems}, indent=2))
        raise typer.Exit(1) from None
    manifest = loaded.manifest
    document = {
        "valid": True,
        "file": str(loaded.source),
        "places": len(manifest.places),
        "devices": len(manifest.devices),
        "streams": sum(len(model.streams) for model in manifest.device_models),
        "applications": len(manifest.applications),
        "warnings": [str(warning) for warning in loaded.warnings],
    }
    print(json.dumps(document, indent=2, ensure_ascii=False))


@app.command()
def schema() -> None:
    """Print the manifest's JSON Schema (point your editor's YAML support at it for completion)."""
    document = Manifest.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "goodthings deployment manifest"
    print(json.dumps(document, indent=2))
