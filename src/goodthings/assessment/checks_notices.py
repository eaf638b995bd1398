"""Automatic check of what people are told: every published notice, in every language the hub
offers, rendered from the applied manifest as the web serves it, and measured."""

from __future__ import annotations

from goodthings.assessment.evidence import Context, Evidence, Finding, Verdict
from goodthings.transparency.notices import LANGUAGES, build_notice, every_scope, render_html
from goodthings.transparency.notices.published import applied_manifest
from goodthings.transparency.readability import (
    GRADE_TARGET,
    SENTENCE_LIMIT,
    grade,
    hardest_sentence,
    visible_text,
)

MIN_LANGUAGES = 2


def notices_readable(context: Context) -> Finding:
    """Notices exist in at least two languages, each reads at grade 8 or below in each language,
    and no sentence in them reads above grade 20: the operator's own texts in the manifest count
    (in each language they are given in), so a purpose explained in legalese fails even when the
    rest of the notice is plain."""
    with context.engine.connect() as connection:
        manifest = applied_manifest(connection)
    if manifest is None:
        return Finding(
            "notices.readable", Verdict.not_applicable, "No manifest has been applied yet."
        )
    scopes = every_scope(manifest)
    grades: dict[str, float] = {}
    hardest: dict[str, float] = {}
    translated = {language: 0 for language in LANGUAGES}
    for scope in scopes:
        notice = build_notice(manifest, scope)
        english = render_html(notice, "en")
        for language in LANGUAGES:
            html = english if language == "en" else render_html(notice, language)
            if language == "en" or html != english:
                translated[language] += 1
            where = str(scope) if language == "en" else f"{scope} ({language})"
            grades[where] = grade(visible_text(html), language)
            hardest[where] = hardest_sentence(html, language)[0]
    languages = tuple(lang for lang, count in translated.items() if count == len(scopes))
    hard = tuple(sorted(scope for scope, level in grades.items() if level > GRADE_TARGET))
    contract = tuple(sorted(scope for scope, level in hardest.items() if level > SENTENCE_LIMIT))
    worst = max(grades.values(), default=0.0)
    evidence: Evidence = {
        "notices": len(scopes),
        "languages": languages,
        "grade_target": GRADE_TARGET,
        "worst_grade": round(worst, 1),
        "notices_above_target": hard,
        "sentence_limit": SENTENCE_LIMIT,
        "hardest_sentence_grade": round(max(hardest.values(), default=0.0), 1),
        "notices_with_a_hard_sentence": contract,
    }
    problems = []
    if len(languages) < MIN_LANGUAGES:
        problems.append(f"notices are offered in {len(languages)} language(s), not {MIN_LANGUAGES}")
    if hard:
        problems.append(
            f"{len(hard)} notice(s) read above grade {GRADE_TARGET:g} (worst {worst:.1f}): "
            + ", ".join(hard)
        )
    if contract:
        problems.append(
            f"{len(contract)} notice(s) hold a sentence above grade {SENTENCE_LIMIT:g}: "
            + ", ".join(contract)
        )
    if problems:
        return Finding(
            "notices.readable", Verdict.failed, "; ".join(problems).capitalize() + ".", evidence
        )
    return Finding(
        "notices.readable",
        Verdict.passed,
        f"All {len(scopes)} notice(s) are offered in {', '.join(languages)} and read at grade "
        f"{worst:.1f} at most (target {GRADE_TARGET:g}).",
        evidence,
    )
