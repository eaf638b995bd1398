"""`goodthings sign`: a printable sign for a place, as PDF or SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from goodthings.assessment import label_standing
from goodthings.cli._common import HomeOption, err, home_of, out
from goodthings.core.errors import GoodthingsError
from goodthings.deployment import open_store
from goodthings.transparency.notices import LANGUAGES, applied_manifest
from goodthings.transparency.signs import SignSize, build_sign, to_pdf, to_svg


def sign(
    out_file: Annotated[
        Path, typer.Option("--out", help="Where to write the sign: FILE.pdf or FILE.svg.")
    ],
    old_place: Annotated[
        str | None,
        typer.Argument(
            metavar="[PLACE]",
            help="Deprecated: the place as a bare word; use --place, as `notice` does.",
            show_default=False,
        ),
    ] = None,
    place: Annotated[
        str | None,
        typer.Option("--place", help="The place the sign is for (its id in the manifest)."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="The hub's public address, for the QR code to the place's notice (default: "
            "the deployment's, see `goodthings deployment show`)."
        ),
    ] = None,
    size: Annotated[
        SignSize,
        typer.Option(help="The paper: a4, a5, or sticker (74 x 105 mm) for the sensor itself."),
    ] = SignSize.a4,
    language: Annotated[
        str,
        typer.Option(
            help=f"The language of the sign and of the notice its QR code opens: "
            f"{', '.join(LANGUAGES)}."
        ),
    ] = "en",
    home: HomeOption = None,
) -> None:
    """Make a printable sign for a place: icons, the accountable operator, a QR code.

    While the latest assessment earns a label and is fresh, the sign also carries the label
    with a second QR code to its public summary; made again later, it no longer does."""
    place_id = _place(old_place, place)
    if language not in LANGUAGES:
        raise GoodthingsError(
            f"no signs in {language!r}; the languages are: {', '.join(LANGUAGES)}"
        )
    kind = out_file.suffix.lower()
    if kind not in {".pdf", ".svg"}:
        raise GoodthingsError(f"write the sign to a .pdf or .svg file, not {out_file.name!r}")
    deployment = home_of(home)
    engine = open_store(deployment)
    try:
        with engine.connect() as connection:
            manifest = applied_manifest(connection)
    finally:
        engine.dispose()
    if manifest is None:
        raise GoodthingsError("no manifest has been applied yet; run `goodthings apply`")
    places = [place.id for place in manifest.places]
    if place_id not in places:
        raise GoodthingsError(
            f"there is no place {place_id!r} in this deployment; its places are: {', '.join(places)}"
        )
    standing = label_standing(deployment.root)
    label = standing.label
    made = build_sign(
        manifest,
        place_id,
        base_url or deployment.settings.public_url,
        language,
        None if label is None else label.in_words(language),
    )
    if kind == ".pdf":
        out_file.write_bytes(to_pdf(made, size))
    else:
        out_file.write_text(to_svg(made, size), encoding="utf-8")
    out.print(
        f"Wrote the sign for {made.place} to {out_file}; its QR code opens {made.url}", markup=False
    )
    if made.label is not None:
        out.print(f"It carries the assessment label; its code opens {made.label.url}", markup=False)
    else:
        out.print(
            f"It carries no assessment label: {standing.why_not} (`goodthings assess`).",
            markup=False,
        )


def _place(old_place: str | None, place: str | None) -> str:
    """`sign PLACE` came first; `--place` matches `notice`, so the bare word is kept with a warning."""
    if old_place is None and place is None:
        raise GoodthingsError("say which place the sign is for: --place ID")
    if old_place is not None and place is not None and old_place != place:
        raise GoodthingsError(f"two places given ({old_place!r} and --place {place!r}); give one")
    if place is None:
        err.print(
            f"warning: `goodthings sign PLACE` is deprecated; write `goodthings sign --place "
            f"{old_place}` (the same option as `goodthings notice`).",
            markup=False,
        )
    return place or old_place or ""
