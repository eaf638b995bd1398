"""What a sign for a place says: built from the place's notice, so the two never disagree."""

from __future__ import annotations

from dataclasses import dataclass

import segno

from goodthings.core.manifest import PURPOSES, Manifest, in_language
from goodthings.transparency.inference import signals_of
from goodthings.transparency.notices import Scope, ScopeKind, build_notice, duration_words
from goodthings.transparency.notices.render import LANGUAGES, translations
from goodthings.transparency.signs.icons import Icon, data_icon, purpose_icon


@dataclass(frozen=True)
class DataRow:
    icon: Icon
    what: str
    personal: bool
    kept: str | None


@dataclass(frozen=True)
class PurposeRow:
    icon: Icon
    why: str


@dataclass(frozen=True)
class SignLabel:
    """The assessment label printed on a sign, with a QR code of its own to the public summary."""

    words: str
    url: str
    qr: tuple[tuple[bool, ...], ...]


@dataclass(frozen=True)
class Sign:
    place: str
    where: str
    operator: str
    accountable: str
    contact: str
    data: tuple[DataRow, ...]
    purposes: tuple[PurposeRow, ...]
    url: str
    qr: tuple[tuple[bool, ...], ...]
    """The QR code's modules, dark = True, quiet zone included."""
    notice_hash: str
    language: str = "en"
    """The language of the sign's words and of the notice its QR code opens."""
    label: SignLabel | None = None
    """Printed only while the latest assessment earns a label and is fresh (the caller decides)."""


def _short(description: str, limit: int = 90) -> str:
    """The description's first clause, as a sign has room for, never with a bracket left open."""
    first = description.split(", ")[0].split(". ")[0].rstrip(".")
    if first.count("(") > first.count(")"):
        first = first[: first.rindex("(")].rstrip()
    return first if len(first) <= limit else first[: limit - 3].rsplit(" ", 1)[0] + "..."


def _modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """A QR code of `url`, dark modules True, quiet zone included."""
    qr = segno.make(url, error="m", micro=False)
    return tuple(tuple(bool(module) for module in row) for row in qr.matrix_iter(scale=1, border=4))


def build_sign(
    manifest: Manifest,
    place_id: str,
    base_url: str,
    language: str = "en",
    label: str | None = None,
) -> Sign:
    """The sign for `place_id` in `language`, its QR code pointing at the place's notice in
    that language under `base_url`.

    With `label` (the assessment label in words, given only while it is earned and fresh), the
    sign also carries the label and a second QR code to the assessment's public summary."""
    if language not in LANGUAGES:
        raise ValueError(f"no signs in {language!r}; the languages are: {', '.join(LANGUAGES)}")
    dpv = translations(language).gettext
    notice = build_notice(manifest, Scope(ScopeKind.place, place_id))
    place = next(p for p in manifest.places if p.id == place_id)
    streams = {
        (model.id, stream.name): stream
        for model in manifest.device_models
        for stream in model.streams
    }
    rows = []
    for entry in notice.streams:
        model_id, _, name = entry.ref.partition("/")
        stream = streams[(model_id, name)]
        icon = data_icon(signals_of(stream), entry.personal, stream.unit, stream.name)
        what = _short(in_language(entry.description, language))
        rows.append(
            DataRow(
                icon,
                what,
                entry.personal,
                duration_words(entry.retention, language) if entry.retention else None,
            )
        )
    seen: dict[str, PurposeRow] = {}
    for entry in notice.streams:
        for use in entry.purposes:
            if use.purpose not in seen:
                explanation = dpv(PURPOSES.get(use.purpose).explanation)
                seen[use.purpose] = PurposeRow(
                    purpose_icon(use.purpose), explanation[0].upper() + explanation[1:]
                )
    person = notice.accountable_person
    contact = notice.data_protection_contact
    url = base_url.rstrip("/") + Scope(ScopeKind.place, place_id).path
    if language != "en":
        url += f"?lang={language}"
    summary = base_url.rstrip("/") + "/assessment"
    return Sign(
        place=in_language(place.name, language),
        where=place.address or in_language(place.area, language),
        operator=notice.controller,
        accountable=f"{person.name}, {person.role}",
        contact=contact.email or contact.phone or contact.url or contact.address or "",
        data=tuple(rows),
        purposes=tuple(seen.values()),
        url=url,
        qr=_modules(url),
        notice_hash=notice.hash,
        language=language,
        label=None if label is None else SignLabel(label, summary, _modules(summary)),
    )
