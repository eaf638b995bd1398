"""The portal's own words in each language the notices have: one gettext catalogue
(`locale/<lang>/LC_MESSAGES/portal.po`), read with Babel and compiled in memory when first used,
as the notices do, so a fresh `pip install -e .` needs no build step.

The portal follows the notices' languages (`LANGUAGES`) and their negotiation (`negotiate`), so a
person reads the notice and the portal in the same language.
"""

from __future__ import annotations

from functools import cache
from gettext import NullTranslations

from goodthings.transparency.notices.render import LANGUAGES, compiled_catalogue, negotiate

DOMAIN = "portal"

__all__ = ["DOMAIN", "LANGUAGES", "catalogue_path", "choose", "negotiate", "translations"]


def catalogue_path(language: str) -> str:
    return f"locale/{language}/LC_MESSAGES/{DOMAIN}.po"


@cache
def translations(language: str) -> NullTranslations:
    """The portal's catalogue for `language` (the notices keep theirs apart)."""
    return compiled_catalogue("goodthings.portal", DOMAIN, language)


def choose(asked: str | None, remembered: str | None, accept_language: str | None) -> str:
    """`?lang=` first (a person's explicit choice), then the one remembered from an earlier
    choice, then the browser's Accept-Language; English when none of ours fits."""
    for code in (asked, remembered):
        if code in LANGUAGES:
            return code
    return negotiate(accept_language)
