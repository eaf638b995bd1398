"""Notices: what is collected, why and by whom, for people (HTML) and machines (JSON-LD)."""

from goodthings.transparency.notices.jsonld import to_jsonld
from goodthings.transparency.notices.model import (
    Notice,
    NoticeNotFound,
    Scope,
    ScopeKind,
    build_notice,
)
from goodthings.transparency.notices.render import LANGUAGES, negotiate, render_html

__all__ = [
    "LANGUAGES",
    "Notice",
    "NoticeNotFound",
    "Scope",
    "ScopeKind",
    "build_notice",
    "negotiate",
    "render_html",
    "to_jsonld",
]
