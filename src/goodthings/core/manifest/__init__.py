"""The deployment manifest: its schema, its validation, and the DPV terms it uses, so every
other layer reads one checked description of what is collected, why and by whom."""

from goodthings.core.manifest.edit import append_device, remove_device
from goodthings.core.manifest.loader import LoadedManifest, load_manifest, load_manifest_text
from goodthings.core.manifest.released import RELEASE, Release
from goodthings.core.manifest.schema import Contact, Device, Manifest, Security, Stream, period_of
from goodthings.core.manifest.source import Located, load_yaml
from goodthings.core.manifest.texts import LocalText, in_language, languages_of
from goodthings.core.manifest.vocabulary import (
    ART9_CONDITIONS,
    CONSENT,
    CONSENT_TYPES,
    EXPLICIT_CONSENT,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    RENAMED,
    Term,
    Vocabulary,
    is_consent,
    is_special,
)

__all__ = [
    "ART9_CONDITIONS",
    "CONSENT",
    "CONSENT_TYPES",
    "EXPLICIT_CONSENT",
    "LEGAL_BASES",
    "PERSONAL_DATA_CATEGORIES",
    "PURPOSES",
    "RELEASE",
    "RENAMED",
    "Contact",
    "Device",
    "LoadedManifest",
    "LocalText",
    "Located",
    "Manifest",
    "Release",
    "Security",
    "Stream",
    "Term",
    "Vocabulary",
    "append_device",
    "in_language",
    "is_consent",
    "is_special",
    "languages_of",
    "load_manifest",
    "load_manifest_text",
    "load_yaml",
    "period_of",
    "remove_device",
]
