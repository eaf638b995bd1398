"""The assessment label in words, in the reader's language: what a notice and a sign print.

The label itself is earned in `goodthings.assessment.label`; its words live here, beside the
notices' catalogue, so a French sign says "niveau de sécurité" and a French date rather than
the English template's words.
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from goodthings.transparency.notices.render import translations


def label_words(
    deployment: str,
    level: int,
    grade: str,
    assessed: date,
    valid_until: date,
    language: str = "en",
) -> str:
    """'Flat 4: security level 2 of 4, privacy grade A, assessed 02 December 2026, valid
    until 01 January 2027', in `language`."""
    _ = translations(language).gettext
    values = {
        "deployment": deployment,
        "level": level,
        "grade": grade,
        "assessed": format_date(assessed, "dd MMMM y", locale=language),
        "until": format_date(valid_until, "dd MMMM y", locale=language),
    }
    if level:
        return (
            _(
                "%(deployment)s: security level %(level)s of 4, privacy grade %(grade)s, assessed "
                "%(assessed)s, valid until %(until)s"
            )
            % values
        )
    return (
        _(
            "%(deployment)s: no security level, privacy grade %(grade)s, assessed %(assessed)s, "
            "valid until %(until)s"
        )
        % values
    )
