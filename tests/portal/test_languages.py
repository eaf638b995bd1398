"""The portal speaks the browser's language where it has a catalogue (English, French), with
`?lang=` to override; every word of its pages has a French translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from goodthings.portal import actions, activity, view, words
from goodthings.portal.i18n import LANGUAGES
from goodthings.runtime.hub import Hub
from goodthings.security.monitoring import PLAIN_REASONS
from portal_helpers import sign_in

SRC = Path(__file__).parents[2] / "src" / "goodthings"
FRENCH = "fr-FR,fr;q=0.9"

# Each page a signed-in person sees most, with its heading in French and in English.
PAGES = {
    "/portal": ("Ce que nous recueillons sur vous", "What we collect about you"),
    "/portal/history": ("Vos choix jusqu'ici", "Your choices so far"),
    "/portal/activity": ("Qui a utilisé vos données", "Who used your data"),
    "/portal/export": ("Télécharger vos données", "Download your data"),
    "/portal/erase": ("Effacer vos données", "Erase your data"),
}


def _heading(html: str) -> str:
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_the_sign_in_page_follows_accept_language(client: TestClient) -> None:
    french = client.get("/portal", headers={"Accept-Language": FRENCH})
    assert '<html lang="fr">' in french.text
    assert french.headers["Content-Language"] == "fr"
    assert _heading(french.text) == "Voir et maîtriser vos données"
    assert "Se connecter" in french.text and "Sign in</button>" not in french.text
    english = client.get("/portal", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in english.text
    assert _heading(english.text) == "See and control your data"
    unknown = client.get("/portal", headers={"Accept-Language": "de-DE"})
    assert '<html lang="en">' in unknown.text, "no German catalogue: English"


def test_every_page_a_person_sees_most_is_in_french(client: TestClient, hub: Hub) -> None:
    sign_in(client, hub, "alex")
    for path, (french, english) in PAGES.items():
        html = client.get(path, headers={"Accept-Language": FRENCH}).text
        assert '<html lang="fr">' in html, path
        assert _heading(html).startswith(french), path
        assert "Qui a utilisé vos données" in html and "Sign out" not in html, path
        html = client.get(path, headers={"Accept-Language": "en"}).text
        assert '<html lang="en">' in html and _heading(html).startswith(english), path
    html = client.get("/portal", headers={"Accept-Language": FRENCH}).text
    assert "Valeurs exactes" in html, "levels come from a table and are translated too"
    assert "Vous décidez" in html and "À quoi cela sert" in html
    assert "13 mois" in html and "13 months" not in html, "durations in the notices' words"


def test_lang_overrides_the_browser_and_is_remembered(client: TestClient) -> None:
    chosen = client.get("/portal?lang=en", headers={"Accept-Language": FRENCH})
    assert '<html lang="en">' in chosen.text
    assert chosen.cookies.get("gt_lang") == "en"
    later = client.get("/portal", headers={"Accept-Language": FRENCH})
    assert '<html lang="en">' in later.text, "the choice outlasts the page"
    back = client.get("/portal?lang=fr")
    assert '<html lang="fr">' in back.text and 'hreflang="en"' in back.text
    ignored = client.get("/portal?lang=xx", headers={"Accept-Language": "en"})
    assert '<html lang="fr">' in ignored.text, "an unknown ?lang= keeps the remembered one"


def _extracted() -> set[str]:
    found: set[str] = set()
    sources = [
        (SRC / "web" / "templates", [("portal/**.html", "jinja2.ext:babel_extract")]),
        (SRC / "web" / "templates", [("base.html", "jinja2.ext:babel_extract")]),
        (
            SRC / "web",
            [(name, "python") for name in ("portal.py", "portal_rights.py", "_portal_common.py")],
        ),
        (SRC / "portal", [("*.py", "python")]),
    ]
    for folder, method_map in sources:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder),
            method_map=method_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "say": None},
            options_map={"**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}},
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(language: str) -> dict[str, str]:
    path = SRC / "portal" / "locale" / language / "LC_MESSAGES" / "portal.po"
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    found = {}
    for m in catalog:
        if isinstance(m.id, str) and m.id:
            found[m.id] = str(m.string)
        elif isinstance(m.id, tuple):  # a plural: its singular, translated in every form
            found[m.id[0]] = m.string[0] if all(m.string) else ""
    return found


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_portal_message_and_table_word_is_translated(language: str) -> None:
    catalogue = _catalogue(language)
    messages = _extracted()
    assert len(messages) > 100
    table_words = [*actions.ACTIONS.values(), actions.words("not-an-action")]
    table_words += [view.level_words(level) for level in ("exact", "coarse", "aggregate", "off")]
    table_words.append(view.plain_period(None))
    symbols = {"°C", "%"}  # written the same in every language the portal has
    table_words += [unit for unit in words._UNITS.values() if unit not in symbols]
    table_words += [w for pair in words._STATES.values() for w in pair]
    table_words += ["yes", "no", *activity._REASONS.values(), *activity._COUNTS.values()]
    table_words += [*PLAIN_REASONS.values(), "You", "The operator", "The hub"]
    for message in [*messages, *table_words]:
        assert catalogue.get(message), f"{language}: no translation for {message!r}"
