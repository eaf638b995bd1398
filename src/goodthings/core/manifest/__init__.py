"""The deployment manifest: its schema, its validation, and the DPV terms it uses, so every
other layer reads one checked description of what is collected, why and by whom."""

from goodthings.core.manifest.edit import append_device
from goodthings.core.manifest.loader import LoadedManifest, load_manifest, load_manifest_text
from goodthings.core.manifest.schema import Contact, Device, Manifest, Stream, period_of
from goodthings.core.manifest.vocabulary import (
    CONSENT,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    Term,
    Vocabulary,
)

__all__ = [
    "CONSENT",
    "LEGAL_BASES",
    "PERSONAL_DATA_CATEGORIES",
    "PURPOSES",
    "Contact",
    "Device",
    "LoadedManifest",
    "Manifest",
    "Stream",
    "Term",
    "Vocabulary",
    "append_device",
    "load_manifest",
    "load_manifest_text",
    "period_of",
]
