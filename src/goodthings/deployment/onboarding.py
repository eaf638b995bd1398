"""Adding a device: into the manifest, into the store, with its own credential from the start;
and retiring one.

The manifest stays the single source of truth: `add_device` appends the device to
`goodthings.yaml` (comments kept), applies it, and only then issues the credential;
`retire_device` takes it out, applies that (the row is kept, marked retired, because readings
and the ledger point at it) and revokes every credential it had.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from goodthings.core.errors import DeploymentError
from goodthings.core.manifest import (
    append_device,
    load_manifest,
    load_manifest_text,
    remove_device,
)
from goodthings.deployment.apply import apply_manifest
from goodthings.security import (
    CredentialKind,
    Issued,
    PasswordRefused,
    issue_token,
    judge_password,
    record_refusal,
    revoke_all,
    set_password,
)


def check_new_password(engine: Engine, device_id: str, password: str, key: bytes) -> None:
    """Raise PasswordRefused (and count the refusal) unless the policy accepts `password`."""
    with engine.connect() as connection:
        verdict = judge_password(connection, device_id, password, key)
    if not verdict.accepted:
        with engine.begin() as connection:
            record_refusal(connection, device_id, verdict)
        raise PasswordRefused(verdict)


def add_device(
    engine: Engine,
    manifest_path: Path,
    *,
    device_id: str,
    model: str,
    place: str,
    firmware: str | None = None,
    name: str | None = None,
    password: str | None = None,
    key: bytes,
) -> Issued:
    """Declare, apply and credential a new device; nothing changes if any step is refused."""
    loaded = load_manifest(manifest_path)
    manifest = loaded.manifest
    if any(device.id == device_id for device in manifest.devices):
        raise DeploymentError(
            f"device {device_id!r} is already in the manifest; for a new credential run "
            f"`goodthings device rotate {device_id}`"
        )
    known = manifest.models_by_id.get(model)
    if known is None:
        raise DeploymentError(
            f"there is no device model {model!r} in the manifest; choose one of: "
            f"{', '.join(sorted(manifest.models_by_id))}"
        )
    if password is not None:
        check_new_password(engine, device_id, password, key)
    fields = {"id": device_id}
    if name:
        fields["name"] = name
    fields |= {"model": model, "place": place, "firmware": firmware or known.firmware_versions[-1]}
    text = append_device(loaded.text, fields)
    updated = load_manifest_text(text, str(manifest_path))  # raises ManifestError, naming why
    _replace(manifest_path, text)
    try:
        apply_manifest(engine, updated)
    except BaseException:
        _replace(manifest_path, loaded.text)
        raise
    with engine.begin() as connection:
        if password is not None:
            set_password(connection, device_id, password, key)
            return Issued(device_id, CredentialKind.password, password)
        return Issued(device_id, CredentialKind.token, issue_token(connection, device_id))


def retire_device(engine: Engine, manifest_path: Path, device_id: str) -> int:
    """Take `device_id` out of the manifest, apply it, revoke its credentials; returns how many
    credentials stopped working."""
    loaded = load_manifest(manifest_path)
    if not any(device.id == device_id for device in loaded.manifest.devices):
        raise DeploymentError(f"there is no device {device_id!r} in the manifest to retire")
    text = remove_device(loaded.text, device_id)
    if text is None:
        raise DeploymentError(
            f"device {device_id!r} is written in a form this edit does not know; remove it "
            "from the manifest by hand and run `goodthings apply`"
        )
    updated = load_manifest_text(text, str(manifest_path))
    _replace(manifest_path, text)
    try:
        apply_manifest(engine, updated)
    except BaseException:
        _replace(manifest_path, loaded.text)
        raise
    with engine.begin() as connection:
        return revoke_all(connection, device_id)


def _replace(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
