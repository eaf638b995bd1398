"""The operator's own words, in one language or several.

A manifest text (a stream's description, a place's name, how a purpose is served…) is either a
plain string, in the deployment's first language, or a mapping by language code:

    description: {en: Temperature in the living room, fr: Température du salon}

A plain string stays a plain `str`, so manifests without translations behave, hash and store
exactly as before. A mapping becomes a `LocalText`: a `str` holding the default language's
words (so every reader that does not care about languages keeps working), with the others in
`translations`. Pages, notices and signs ask for their language with `in_language`, which also
reads the mapping form that the store keeps in JSON (`model_dump` writes a LocalText back as
the mapping, default language first).

Which languages a mapping may use (the deployment's `languages`) needs the whole file, so it is
checked in `checks.py`, with the line of each wrong key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from babel import Locale, UnknownLocaleError
from pydantic import PlainSerializer, PlainValidator, ValidationInfo, WithJsonSchema

_CODE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


class LocalText(str):
    """Words in several languages; as a `str`, the words in the deployment's first language."""

    translations: dict[str, str]
    """Every language's words, the default language first."""

    def __new__(cls, translations: Mapping[str, str], default: str) -> LocalText:
        chosen = default if default in translations else next(iter(translations))
        text = super().__new__(cls, translations[chosen])
        text.translations = {chosen: translations[chosen]} | dict(translations)
        return text

    def in_language(self, language: str) -> str:
        return self.translations.get(language, str(self))

    def __getnewargs__(self) -> tuple[dict[str, str], str]:  # type: ignore[override]
        """Pickled and copied with its translations (the default language is the first)."""
        return self.translations, next(iter(self.translations))

    def __deepcopy__(self, memo: dict[int, Any]) -> LocalText:
        return self  # immutable, as a str is


def in_language(text: str | Mapping[str, str] | None, language: str) -> str:
    """The words of `text` in `language`, else in the default language; "" for none.

    `text` is what the manifest model holds (a str or a LocalText) or what the store's JSON
    holds (a str, or the mapping with the default language first)."""
    if text is None:
        return ""
    if isinstance(text, LocalText):
        return text.in_language(language)
    if isinstance(text, str):
        return text
    return text.get(language) or next(iter(text.values()), "")


def languages_of(text: str | Mapping[str, str] | None) -> tuple[str, ...]:
    """The languages `text` is given in; () for a plain string (the default language only)."""
    if isinstance(text, LocalText):
        return tuple(text.translations)
    if isinstance(text, Mapping):
        return tuple(text)
    return ()


def valid_language(code: str) -> str:
    """A language code Babel knows (`en`, `fr`, `cy`, `pt-BR`), else ValueError in words."""
    if not _CODE.fullmatch(code):
        raise ValueError(
            f"{code!r} is not a language code; write it like en, fr or pt-BR (ISO 639-1)"
        )
    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"{code!r} is not a language code known to goodthings") from None
    return code


def _words(value: Any, info: ValidationInfo) -> str:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("write some words here; the text is empty")
        return value
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            "give the text as words, or as words by language, like {en: Kitchen, fr: Cuisine}"
        )
    for code, words in value.items():
        if not isinstance(code, str):
            raise ValueError(f"{code!r} is not a language code; write it like en or fr")
        valid_language(code)
        if not isinstance(words, str) or not words.strip():
            raise ValueError(f"the text in {code!r} is empty or not words")
    languages = (info.context or {}).get("languages") or ("en",)
    return LocalText(value, languages[0])


def _plain(value: str) -> str | dict[str, str]:
    return dict(value.translations) if isinstance(value, LocalText) else value


Words = Annotated[
    str,
    PlainValidator(_words),
    PlainSerializer(_plain),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "description": "The text by language code, the deployment's first one "
                    "included: {en: Kitchen, fr: Cuisine}",
                    "additionalProperties": {"type": "string", "minLength": 1},
                    "minProperties": 1,
                },
            ]
        }
    ),
]
"""An operator's text: words, or words by language."""
