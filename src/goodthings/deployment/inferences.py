"""What `apply` warns about: inferences the new manifest makes possible that the applied one did not."""

from __future__ import annotations

from sqlalchemy import Connection

from goodthings.core.manifest import LoadedManifest
from goodthings.transparency.inference import Inference, new_inferences
from goodthings.transparency.notices import applied_manifest


def inference_warnings(connection: Connection, loaded: LoadedManifest) -> list[Inference]:
    """New correlations, compared with the manifest applied now (all of them on a first apply)."""
    return new_inferences(applied_manifest(connection), loaded.manifest)


def describe_warning(inference: Inference) -> str:
    return (
        f"warning: new inference {inference.rule.id!r} at {', '.join(inference.places)}: "
        f"{inference.rule.reveals}, from {', '.join(inference.streams)}. "
        "The notices now tell people; check that it is what you intend."
    )
