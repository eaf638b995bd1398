"""`goodthings notice` prints the applied manifest's notices; `apply` warns about new inferences."""

from __future__ import annotations

import json

import pytest

from cli_helpers import run
from goodthings.core.config import Home


@pytest.fixture
def deployment(capsys: pytest.CaptureFixture[str], home: Home) -> Home:
    assert run(capsys, "init", str(home.root), "--example", "city-street").code == 0
    return home


def test_notice_of_a_place_in_html_and_french(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    home = ["--home", str(deployment.root)]
    english = run(capsys, "notice", "--place", "mill-street-north", *home)
    assert english.code == 0
    assert english.out.startswith("<!doctype html>")
    assert "Mill Street (north): what we collect and why" in english.out
    assert "the route a person takes" in english.out
    french = run(capsys, "notice", "--place", "mill-street-north", "--lang", "fr", *home)
    assert "Mill Street (north) : ce que nous recueillons et pourquoi" in french.out


@pytest.mark.parametrize("spelling", [["--format", "json"], ["--json"]])
def test_notice_as_json_ld(
    capsys: pytest.CaptureFixture[str], deployment: Home, spelling: list[str]
) -> None:
    ran = run(capsys, "notice", "--stream", "probe", *spelling, "--home", str(deployment.root))
    assert ran.code == 0
    document = json.loads(ran.out)
    assert document["goodthings:scope"] == {
        "goodthings:scopeKind": "stream",
        "dct:identifier": "probe",
    }
    categories = {p.get("dpv:hasPersonalData", {}).get("@id") for p in document["dpv:hasProcess"]}
    assert "https://w3id.org/dpv/pd#MACAddress" in categories


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--place", "a", "--device", "b"], "at most one of --place, --device and --stream"),
        (["--lang", "xx"], "no notices in 'xx'"),
        (["--device", "toaster"], "there is no device 'toaster'"),
    ],
)
def test_notice_mistakes_are_explained(
    capsys: pytest.CaptureFixture[str], deployment: Home, args: list[str], message: str
) -> None:
    ran = run(capsys, "notice", *args, "--home", str(deployment.root))
    assert ran.code == 1 and message in ran.err


def test_apply_warns_when_a_change_creates_a_new_inference(
    capsys: pytest.CaptureFixture[str], deployment: Home
) -> None:
    manifest = deployment.manifest_path
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(
        text.replace(
            "  - id: camera-square\n",
            "  - id: footfall-square\n    model: passby-wp2\n    place: market-square\n"
            '    firmware: "3.1.0"\n  - id: camera-square\n',
        ),
        encoding="utf-8",
    )
    ran = run(capsys, "apply", "--home", str(deployment.root))
    assert ran.code == 0
    assert "warning: new inference 'routes-of-passers-by' at market-square" in ran.err
    again = run(capsys, "apply", "--home", str(deployment.root))
    assert "warning" not in again.err


def test_notice_language_shows_the_operators_own_texts_in_it(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    assert run(capsys, "init", str(home.root), "--example", "smart-home").code == 0
    where = ["--place", "flat-4", "--home", str(home.root)]
    french = run(capsys, "notice", *where, "--language", "fr")
    assert french.code == 0, french.err
    assert "Appartement 4 : ce que nous recueillons et pourquoi" in french.out
    assert "Votre fournisseur vous facture l&#39;électricité que vous utilisez." in french.out
    assert "Your supplier bills you" not in french.out
    english = run(capsys, "notice", *where, "--language", "en")
    assert "Flat 4: what we collect and why" in english.out
    assert "Your supplier bills you for the electricity you use." in english.out
    jsonld = json.loads(run(capsys, "notice", *where, "--language", "fr", "--json").out)
    assert jsonld["dct:language"] == "fr" and jsonld["dct:title"] == "Appartement 4"
