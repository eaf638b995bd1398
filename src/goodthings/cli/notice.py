"""`goodthings notice`: print the notice of the deployment, a place, a device or a stream."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer

from goodthings.cli._common import HomeOption, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.deployment import open_store
from goodthings.transparency.notices import LANGUAGES, Scope, ScopeKind, render_html, to_jsonld
from goodthings.transparency.notices import published as notices


class NoticeFormat(StrEnum):
    html = "html"
    json = "json"


def notice(
    place: Annotated[str | None, typer.Option(help="The notice of this place (its id).")] = None,
    device: Annotated[str | None, typer.Option(help="The notice of this device (its id).")] = None,
    stream: Annotated[
        str | None, typer.Option(help="The notice of this stream: name or model-id/name.")
    ] = None,
    lang: Annotated[
        str,
        typer.Option(
            "--language",
            "--lang",
            help=f"The language of the notice (HTML and JSON-LD): {', '.join(LANGUAGES)}; the "
            "operator's texts are shown in it where the manifest gives them in it.",
        ),
    ] = "en",
    format: Annotated[
        NoticeFormat, typer.Option(help="html for people, json for JSON-LD with DPV terms.")
    ] = NoticeFormat.html,
    as_json: Annotated[
        bool, typer.Option("--json", help="The same as --format json, as other commands spell it.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Print what is collected, why, who receives it and for how long, from the applied manifest.

    Without --place, --device or --stream, the notice covers the whole deployment.
    """
    chosen = [
        (kind, value)
        for kind, value in (("place", place), ("device", device), ("stream", stream))
        if value
    ]
    if len(chosen) > 1:
        raise GoodthingsError("give at most one of --place, --device and --stream")
    if lang not in LANGUAGES:
        raise GoodthingsError(f"no notices in {lang!r}; the languages are: {', '.join(LANGUAGES)}")
    scope = Scope(ScopeKind(chosen[0][0]), chosen[0][1]) if chosen else Scope()
    engine = open_store(home_of(home))
    try:
        with engine.connect() as connection:
            built = notices.current_notice(connection, scope)
    finally:
        engine.dispose()
    if as_json or format is NoticeFormat.json:
        out.print(json.dumps(to_jsonld(built, lang), indent=2, ensure_ascii=False), markup=False)
    else:
        out.print(render_html(built, lang), markup=False)
