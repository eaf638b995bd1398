"""Every page a person reads (the portal, its rights pages, the notices) has no English left when
it is served in French: each page is rendered in both languages, and a piece of text that is the
same in both is untranslated, unless it is a name, an address, a number or a word French shares.

The smart-home example gives its own texts in both languages, so the operator's words are held
to the same rule as the hub's."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from typing import Any

from fastapi.testclient import TestClient

from goodthings.rights.access import Grant, ReadingsQuery, read_readings
from goodthings.runtime.hub import Hub
from goodthings.transparency.notices import applied_manifest
from portal_helpers import give, invite, send, sign_in

FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH = {"Accept-Language": "en"}

SHARED_WORDS = {
    # Words French and English write the same way, and names of things that are not translated.
    "goodthings",
    "utc",
    "json",
    "json-ld",
    "dpv",
    "senml",
    "gdpr",
    "rgpd",
    "ok",
    "code",
    "date",
    "notice",
    "minutes",
    "minute",
    "message",
    "options",
    "total",
    "portal",
    "accept-language",
    "pdf",
    "svg",
    "qr",
    "age",
    "https",
    "mailto",
    "watts",
    "kilowatts",
    "volts",
    "lux",
    "english",  # the language switch names each language in itself
    "français",
}
_CODE = re.compile(r"[0-9a-f]{8,}")
"""A hash (a notice version), shown as a code."""
_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")


class _Texts(HTMLParser):
    """The pieces of text a person sees or hears: text between tags (not scripts or styles) and
    the attributes a screen reader speaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in _ATTRIBUTES and value:
                self._add(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._add(data)

    def _add(self, text: str) -> None:
        text = " ".join(text.split())
        if text:
            self.found.append(text)


def texts_of(html: str) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return parser.found


def _plain_strings(value: Any) -> set[str]:
    """Every text the manifest gives in one language only: names, addresses, e-mails."""
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        if value and set(value) <= {"en", "fr"}:
            return set()  # a text by language: it must be translated
        return set().union(*(_plain_strings(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_plain_strings(v) for v in value))
    return set()


def untranslated(french: str, english: str, names: set[str]) -> list[str]:
    """The pieces of the French page that are the English page's, word for word, and hold a
    word that is neither a name nor shared by both languages."""
    english_texts = set(texts_of(english))
    found = []
    for text in texts_of(french):
        if text not in english_texts:
            continue
        rest = _CODE.sub(" ", text)
        for name in sorted(names, key=len, reverse=True):
            rest = rest.replace(name, " ")
        words = re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]{2,}", rest)
        if any(word.lower() not in SHARED_WORDS for word in words):
            found.append(text)
    return found


def _names(hub: Hub) -> set[str]:
    with hub.engine.connect() as connection:
        manifest = applied_manifest(connection)
    assert manifest is not None
    names = _plain_strings(manifest.model_dump(mode="json"))
    return {name for name in names if len(name) > 2} | {"Alex Rivera", "Sam Rivera"}


def _read(hub: Hub, application: str, stream: str, purpose: str) -> None:
    grant = Grant(application, (purpose,), time.time() + 300)
    read_readings(hub.engine, hub.keyring, hub.signer, grant, ReadingsQuery(stream, purpose))


def _a_week_of_use(client: TestClient, hub: Hub) -> None:
    give(
        hub,
        ("alex", "pulse-band-2/heart_rate", "ServicePersonalisation"),
        ("alex", "wattwise-m2/power", "OptimisationForConsumer"),
        ("sam", "wattwise-m2/power", "OptimisationForConsumer"),
    )
    send(hub, "band-alex", "heart_rate", [61.0, 62.0, 63.0])
    send(hub, "meter-1", "power", [400.0, 410.0])
    _read(hub, "wellbeing", "heart_rate", "ServicePersonalisation")
    _read(hub, "energy-dashboard", "power", "OptimisationForConsumer")


PAGES = (
    "/portal",
    "/portal/history",
    "/portal/activity",
    "/portal/export",
    "/portal/erase",
    "/portal/receipts/not-one-of-yours.json",
    "/notice",
    "/notice/place/flat-4",
    "/notice/device/band-alex",
    "/notice/stream/heart_rate",
)


def test_no_page_a_person_reads_has_english_left_in_french(client: TestClient, hub: Hub) -> None:
    names = _names(hub)
    signed_out = {
        "/portal (signed out)": "/portal",
        "/portal/sign-in/…": invite(hub, "alex").link.removeprefix("https://testserver"),
    }
    left: dict[str, list[str]] = {}
    for label, path in signed_out.items():
        french, english = client.get(path, headers=FRENCH), client.get(path, headers=ENGLISH)
        left[label] = untranslated(french.text, english.text, names)
    _a_week_of_use(client, hub)
    csrf = sign_in(client, hub, "alex")
    answer = client.post(
        "/portal/objections",
        data={"csrf": csrf, "stream": "pulse-band-2/heart_rate"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    for path in PAGES:
        french = client.get(path, headers=FRENCH)
        english = client.get(path, headers=ENGLISH)
        assert french.status_code == english.status_code, path
        assert french.text != english.text, f"{path} is not translated at all"
        left[path] = untranslated(french.text, english.text, names)
    leftover = {path: texts for path, texts in left.items() if texts}
    assert leftover == {}, "English left in French:\n" + "\n".join(
        f"{path}: {text!r}" for path, texts in leftover.items() for text in texts
    )


def test_the_check_finds_english_and_lets_names_through() -> None:
    english = "<p>Your readings</p><p>Alex Rivera</p><p title='Sign out'>42</p>"
    french = "<p>Vos relevés</p><p>Alex Rivera</p><p title='Sign out'>42</p>"
    assert untranslated(french, english, {"Alex Rivera"}) == ["Sign out"]
    assert texts_of("<script>var a = 'x'</script><b>Hi there</b>") == ["Hi there"]
