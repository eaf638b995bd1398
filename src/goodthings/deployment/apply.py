"""Apply a manifest to the store: plan, confirm where stored data is affected, then change.

Everything an apply changes in the store is one transaction, the credentials of the devices it
adds included: a process killed at any point leaves the store at the old plan or the new one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine

from goodthings.core.errors import DeploymentError, GoodthingsError
from goodthings.core.manifest import LoadedManifest, period_of
from goodthings.core.store import declared
from goodthings.deployment.plan import (
    Action,
    Key,
    Plan,
    Row,
    StoredRow,
    desired_rows,
    diff,
)
from goodthings.security import issue_token, read_sbom, store_components
from goodthings.security.advisories import Component


class ConfirmationNeeded(GoodthingsError):
    """The plan retires streams that hold readings; the operator must say yes."""


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    applied: bool
    credentials: dict[str, str] = field(default_factory=dict)
    """Each added device's first token, by device id: stored (hashed) with the plan, shown once."""


@dataclass(frozen=True)
class Sbom:
    """A device model's SBOM file as the plan compares it and the store keeps it."""

    sha256: str
    components: tuple[Component, ...]


def read_sboms(loaded: LoadedManifest) -> dict[str, Sbom]:
    """The SBOM of each device model that names one, read from the file relative to the
    manifest; an AdvisoryError names a file that is not a valid SBOM."""
    directory = Path(loaded.source).parent
    found: dict[str, Sbom] = {}
    for model in loaded.manifest.device_models:
        if model.sbom:
            path = directory / model.sbom
            components = read_sbom(path)
            found[model.id] = Sbom(hashlib.sha256(path.read_bytes()).hexdigest(), components)
    return found


def plan_for(
    connection: Connection, loaded: LoadedManifest, sboms: Mapping[str, Sbom] | None = None
) -> Plan:
    """What applying `loaded` would change in the store behind `connection`."""
    sboms = read_sboms(loaded) if sboms is None else sboms
    _check_same_deployment(connection, loaded)
    counts = declared.readings_per_stream(connection)
    stored: dict[str, dict[Key, StoredRow]] = {}
    for table, rows in declared.read_all(connection).items():
        readings = counts if table == "streams" else {}
        stored[table] = {
            key: StoredRow(Row(table, key, values), retired, readings.get(key, 0))
            for key, values, retired in rows
        }
    digests = {model_id: sbom.sha256 for model_id, sbom in sboms.items()}
    return diff(desired_rows(loaded.manifest, digests), stored)


def apply_manifest(
    engine: Engine,
    loaded: LoadedManifest,
    *,
    confirmed: bool = False,
    dry_run: bool = False,
    credential_added: bool = False,
) -> ApplyResult:
    """Plan and, unless `dry_run`, apply in one transaction: all of it or nothing. With
    `credential_added`, each device the plan adds gets a token in that same transaction.
    Device models' SBOMs are read first, so a broken one stops the apply before it starts."""
    sboms = read_sboms(loaded)
    with engine.begin() as connection:
        plan = plan_for(connection, loaded, sboms)
        if dry_run:
            return ApplyResult(plan, applied=False)
        if plan.needs_confirmation and not confirmed:
            raise ConfirmationNeeded(
                "this plan retires streams that hold readings; read the plan above and "
                "run again with --yes to go ahead"
            )
        _execute(connection, plan, loaded)
        for model in loaded.manifest.device_models:
            sbom = sboms.get(model.id)
            store_components(connection, model.id, sbom.components if sbom else ())
        credentials = {
            change.row.key[0]: issue_token(connection, str(change.row.key[0]))
            for change in plan.changes
            if credential_added and change.row.table == "devices" and change.action is Action.add
        }
    return ApplyResult(plan, applied=True, credentials=credentials)


def _execute(connection: Connection, plan: Plan, loaded: LoadedManifest) -> None:
    manifest = loaded.manifest
    declared.write_operator(
        connection,
        {
            "deployment_id": manifest.deployment.id,
            "deployment_name": manifest.deployment.name,
            "legal_name": manifest.operator.legal_name,
            "spec": manifest.operator.model_dump(mode="json"),
            "clock_skew_seconds": period_of(manifest.deployment.clock_skew).total_seconds(),
            "metrics_retention_seconds": period_of(
                manifest.deployment.metrics_retention
            ).total_seconds(),
        },
    )
    for change in plan.changes:
        if change.action is Action.retire:
            declared.retire(connection, change.row.table, change.row.key)
        else:
            declared.upsert(connection, change.row.table, change.row.key, change.row.values)
    declared.record_manifest(
        connection, sha256=loaded.sha256, source=loaded.source, content=loaded.text
    )


def _check_same_deployment(connection: Connection, loaded: LoadedManifest) -> None:
    current = declared.deployment_id(connection)
    wanted = loaded.manifest.deployment.id
    if current is not None and current != wanted:
        raise DeploymentError(
            f"this database belongs to deployment {current!r}, but the manifest declares "
            f"{wanted!r}; point the deployment at its own database with `goodthings deployment "
            "set database URL`, or fix deployment.id"
        )
