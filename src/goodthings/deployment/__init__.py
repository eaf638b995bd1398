"""The deployment as a whole: its directory (manifest, database, keys), applying the manifest to
the store, onboarding a device, and backing up and restoring the database, so `init`, `apply`,
`device add`, `backup` and `restore` share one code path."""

from goodthings.deployment.apply import (
    ApplyResult,
    ConfirmationNeeded,
    apply_manifest,
    plan_for,
)
from goodthings.deployment.backup import BackupError, BackupManifest, read_backup, take_backup
from goodthings.deployment.directory import (
    EXAMPLES,
    example_text,
    init_deployment,
    manifest_path,
    open_store,
)
from goodthings.deployment.gitignore import checkout_of, ignore_secrets
from goodthings.deployment.inferences import describe_warning, inference_warnings
from goodthings.deployment.onboarding import add_device, check_new_password, retire_device
from goodthings.deployment.plan import Action, Plan, describe, plan_document
from goodthings.deployment.restore import Restored, reapply_erasures, restore_backup

__all__ = [
    "EXAMPLES",
    "Action",
    "ApplyResult",
    "BackupError",
    "BackupManifest",
    "ConfirmationNeeded",
    "Plan",
    "Restored",
    "add_device",
    "apply_manifest",
    "check_new_password",
    "checkout_of",
    "describe",
    "describe_warning",
    "example_text",
    "ignore_secrets",
    "inference_warnings",
    "init_deployment",
    "manifest_path",
    "open_store",
    "plan_document",
    "plan_for",
    "read_backup",
    "reapply_erasures",
    "restore_backup",
    "retire_device",
    "take_backup",
]
