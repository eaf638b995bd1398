"""Notices from the applied manifest, and the record of every notice version shown.

The store keeps each applied manifest's text; notices are built from the newest one. A notice
version is recorded when it is served or consented under, so an auditor can read, years later,
exactly what a person was told.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from goodthings.core.errors import DeploymentError
from goodthings.core.manifest import Manifest, load_manifest_text
from goodthings.core.store import tables as t
from goodthings.core.store import tables_transparency as tt
from goodthings.transparency.notices.model import Notice, Scope, build_notice

_lock = threading.Lock()
_parsed: dict[str, Manifest] = {}


def applied_manifest(connection: Connection) -> Manifest | None:
    """The newest applied manifest, parsed once per version; None before the first apply."""
    row = connection.execute(
        select(t.manifest_versions.c.sha256, t.manifest_versions.c.content)
        .order_by(t.manifest_versions.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    with _lock:
        manifest = _parsed.get(row.sha256)
    if manifest is None:
        manifest = load_manifest_text(row.content).manifest
        with _lock:
            _parsed[row.sha256] = manifest
    return manifest


def current_notice(connection: Connection, scope: Scope | None = None) -> Notice:
    """The notice for `scope` under the applied manifest."""
    manifest = applied_manifest(connection)
    if manifest is None:
        raise DeploymentError("no manifest has been applied yet; run `goodthings apply`")
    return build_notice(manifest, scope or Scope())


def record_version(connection: Connection, notice: Notice) -> str:
    """Keep this notice version (once) and return its hash."""
    digest = notice.hash
    known = connection.execute(
        select(tt.notice_versions.c.hash).where(tt.notice_versions.c.hash == digest)
    ).first()
    if known is None:
        scope = notice.scope.kind.value + (f":{notice.scope.id}" if notice.scope.id else "")
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(tt.notice_versions).values(
                        hash=digest,
                        scope=scope,
                        created_at=datetime.now(UTC),
                        content=asdict(notice),
                    )
                )
        except IntegrityError:
            pass  # another worker recorded the same version first
    return digest


def recorded_version(connection: Connection, digest: str) -> dict[str, Any] | None:
    """A recorded notice version's content, or None."""
    content = connection.execute(
        select(tt.notice_versions.c.content).where(tt.notice_versions.c.hash == digest)
    ).scalar_one_or_none()
    return dict(content) if content is not None else None
