"""The deployed manifest's versions, a diff between any two, and the plan `apply` would carry
out for the manifest file as it is now, read only (`deployment.plan_for`)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from goodthings.core.store import tables as t


@dataclass(frozen=True)
class Version:
    number: int
    applied_at: datetime
    sha256: str
    source: str
    """The file it was read from."""


def versions(connection: Connection) -> list[Version]:
    """Every applied version, newest first."""
    v = t.manifest_versions.c
    return [
        Version(*row)
        for row in connection.execute(
            select(v.id, v.applied_at, v.sha256, v.source).order_by(v.id.desc())
        )
    ]


def text_of(connection: Connection, number: int) -> str | None:
    v = t.manifest_versions.c
    return connection.execute(select(v.content).where(v.id == number)).scalar_one_or_none()


def diff(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    """A unified diff, line by line, with three lines of context."""
    return list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=3
        )
    )
