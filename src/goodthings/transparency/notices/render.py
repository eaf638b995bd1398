"""Notices for people: plain-language HTML in each language the hub has a catalogue for.

Words come from gettext catalogues (`locale/<lang>/LC_MESSAGES/goodthings.po`), read with Babel
and compiled in memory when first used, so a fresh `pip install -e .` needs no build step.
What the operator wrote in the manifest (descriptions, how data is used, terms) is shown in the
page's language where the manifest gives it (`{en: …, fr: …}`), else as written.
"""

from __future__ import annotations

import io
import re
from functools import cache
from gettext import NullTranslations
from importlib.resources import files

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, PackageLoader, select_autoescape

from goodthings.core.manifest import (
    ART9_CONDITIONS,
    LEGAL_BASES,
    PERSONAL_DATA_CATEGORIES,
    PURPOSES,
    in_language,
)
from goodthings.transparency.notices.jsonld import to_jsonld
from goodthings.transparency.notices.model import AutomationEntry, Notice, StreamEntry

DOMAIN = "goodthings"
LANGUAGES: tuple[str, ...] = ("en", "fr")
"""English is the source language; every other one has a catalogue."""

_DURATION = re.compile(
    r"P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?"
)
_VOCABULARIES = {
    "purpose": PURPOSES,
    "category": PERSONAL_DATA_CATEGORIES,
    "basis": LEGAL_BASES,
    "condition": ART9_CONDITIONS,
}


def catalogue_path(language: str) -> str:
    return f"locale/{language}/LC_MESSAGES/{DOMAIN}.po"


def compiled_catalogue(package: str, domain: str, language: str) -> NullTranslations:
    """A package's catalogue for `language`, compiled in memory from its shipped .po file (no
    build step); English is the source language and needs none. The notices and the portal
    each keep their own catalogue this way."""
    if language == "en":
        return NullTranslations()
    path = f"locale/{language}/LC_MESSAGES/{domain}.po"
    with files(package).joinpath(path).open("rb") as po:
        catalog = read_po(po, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=domain)


@cache
def translations(language: str) -> NullTranslations:
    """The notices' catalogue for `language`."""
    return compiled_catalogue("goodthings.transparency.notices", DOMAIN, language)


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an HTTP Accept-Language header; English otherwise."""
    wanted = [
        part.split(";")[0].strip().replace("-", "_")
        for part in (accept_language or "").split(",")
        if part.strip()
    ]
    return negotiate_locale(wanted, list(LANGUAGES)) or "en"


def language_name(code: str) -> str:
    """A language's name in that language, for the language switch."""
    return Locale.parse(code).get_display_name(code) or code


def duration_words(iso: str, language: str = "en") -> str:
    """'P13M' -> '13 months'; 'P1DT12H' -> '1 day and 12 hours'."""
    t = translations(language)
    match = _DURATION.fullmatch(iso)
    if match is None:
        return iso
    units = {
        "years": lambda n: t.ngettext("%(num)d year", "%(num)d years", n),
        "months": lambda n: t.ngettext("%(num)d month", "%(num)d months", n),
        "weeks": lambda n: t.ngettext("%(num)d week", "%(num)d weeks", n),
        "days": lambda n: t.ngettext("%(num)d day", "%(num)d days", n),
        "hours": lambda n: t.ngettext("%(num)d hour", "%(num)d hours", n),
        "minutes": lambda n: t.ngettext("%(num)d minute", "%(num)d minutes", n),
        "seconds": lambda n: t.ngettext("%(num)d second", "%(num)d seconds", n),
    }
    parts = [
        units[unit](int(amount)) % {"num": int(amount)}
        for unit, amount in match.groupdict().items()
        if amount
    ]
    if len(parts) < 2:
        return parts[0] if parts else iso
    return t.gettext("%(first)s and %(last)s") % {
        "first": ", ".join(parts[:-1]),
        "last": parts[-1],
    }


@cache
def _environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("goodthings.transparency.notices", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
    )
    t = translations(language)
    env.install_gettext_translations(t, newstyle=True)  # type: ignore[attr-defined]
    _ = t.gettext

    def term(name: str, kind: str) -> str:
        return _(_VOCABULARIES[kind].get(name).explanation)

    def about(stream: StreamEntry) -> str:
        texts = {
            "owner": _("Yes. It is about the person who owns the sensor."),
            "occupant": _("Yes. It is about the people who live or work in this place."),
            "wearer": _("Yes. It is about the person who wears the sensor."),
            "passers-by": _("Yes. It is about people who walk past."),
        }
        if not stream.personal:
            return _("No. It is not about any one person.")
        return texts.get(stream.about or "", _("Yes. It is about a person."))

    def level_text(level: str) -> str:
        texts = {
            "exact": _("Exact: every reading as it was measured."),
            "coarse": _("Rounded: each reading, made less precise."),
            "aggregate": _("Summary: only an average over a period, not each reading."),
            "off": _("Off: nothing is kept at all."),
        }
        return texts.get(level, level)

    def recipient_kind(kind: str) -> str:
        texts = {
            "processor": _("who work for us"),
            "third-party": _("another organisation"),
            "public-authority": _("a public body"),
            "researcher": _("a research team"),
        }
        return texts.get(kind, kind)

    def automation_text(automation: AutomationEntry) -> str:
        parts = []
        if automation.automated_decisions:
            parts.append(_("A computer makes some decisions here on its own."))
        if automation.profiling:
            parts.append(_("A computer builds a picture of you from this data."))
        return " ".join(parts)

    env.filters["local"] = lambda text: in_language(text, language)
    env.globals.update(
        term=term,
        about=about,
        level_text=level_text,
        recipient_kind=recipient_kind,
        automation_text=automation_text,
        duration=lambda iso: duration_words(iso, language),
        languages=[(code, language_name(code)) for code in LANGUAGES],
    )
    return env


def render_html(
    notice: Notice,
    language: str = "en",
    *,
    optout_action: str | None = None,
    optout_place: str = "",
    label: str | None = None,
) -> str:
    """The notice as a page for people, with its JSON-LD embedded for machines.

    With `optout_action`, the page has the form passers-by use to opt out their phone. With
    `label` (the assessment label in words), the page shows the label's badge, linked to the
    public summary of the assessment: the caller passes it only while the latest assessment
    earns it and is fresh.
    """
    if language not in LANGUAGES:
        raise ValueError(f"no notices in {language!r}; the languages are: {', '.join(LANGUAGES)}")
    template = _environment(language).get_template("notice.html")
    query = "" if language == "en" else f"?lang={language}"
    return template.render(
        notice=notice,
        language=language,
        jsonld=to_jsonld(notice, language),
        query=query,
        optout_action=optout_action,
        optout_place=optout_place,
        label=label,
    )


def render_passersby_answer(
    language: str, outcome: str, count: int, places: tuple[str, ...], back: str
) -> str:
    """The page a passer-by sees after opting out (`opted-out`), asking (`held`) or a mistake."""
    t = translations(language)
    if outcome == "opted-out":
        title = t.gettext("Done: we no longer collect your phone")
        paragraphs = [
            t.gettext("Readings of your phone are now thrown away as they arrive."),
            t.ngettext(
                "We deleted %(num)d reading we held about it.",
                "We deleted %(num)d readings we held about it.",
                count,
            )
            % {"num": count},
        ]
    elif outcome == "held":
        title = t.gettext("What we hold about your phone")
        paragraphs = [
            t.ngettext(
                "We hold %(num)d reading of this address.",
                "We hold %(num)d readings of this address.",
                count,
            )
            % {"num": count}
        ]
        if places:
            paragraphs.append(t.gettext("Seen at: %(places)s.") % {"places": ", ".join(places)})
        paragraphs.append(t.gettext("Each reading is deleted after its keeping time ends."))
    else:
        title = t.gettext("That is not a Wi-Fi or Bluetooth address")
        paragraphs = [t.gettext("An address has 12 letters and digits, like 3C:22:FB:12:34:56.")]
    template = _environment(language).get_template("passersby.html")
    return template.render(language=language, title=title, paragraphs=paragraphs, back=back)
