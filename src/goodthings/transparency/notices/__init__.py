"""Notices: what is collected, why and by whom, for people (HTML) and machines (JSON-LD), with
every published version recorded so a consent can name the notice it was given under."""

from goodthings.transparency.notices.jsonld import to_jsonld
from goodthings.transparency.notices.model import (
    Notice,
    NoticeNotFound,
    Scope,
    ScopeKind,
    build_notice,
    every_scope,
)
from goodthings.transparency.notices.published import applied_manifest, current_notice
from goodthings.transparency.notices.render import (
    LANGUAGES,
    duration_words,
    negotiate,
    render_html,
    render_passersby_answer,
)

__all__ = [
    "LANGUAGES",
    "Notice",
    "NoticeNotFound",
    "Scope",
    "ScopeKind",
    "applied_manifest",
    "build_notice",
    "current_notice",
    "duration_words",
    "every_scope",
    "negotiate",
    "render_html",
    "render_passersby_answer",
    "to_jsonld",
]
