"""The deployment manifest: its schema, its validation, and the DPV terms it uses."""

from goodthings.core.manifest.loader import LoadedManifest, load_manifest, load_manifest_text
from goodthings.core.manifest.schema import Manifest

__all__ = ["LoadedManifest", "Manifest", "load_manifest", "load_manifest_text"]
