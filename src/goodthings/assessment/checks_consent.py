"""The automatic check that consent comes first: a stream every purpose of which waits for
consent holds no reading about someone who never gave it."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from goodthings.assessment.evidence import Context, Evidence, Finding, Verdict
from goodthings.core.manifest import is_consent
from goodthings.core.store import count_by_subject
from goodthings.core.store import tables as t


def consent_before_collection(context: Context) -> Finding:
    """Readings of consent-only streams each belong to a person who gave consent for it.

    Judged against the whole consent history, not only today's choices: a reading kept from
    before a later withdrawal is lawful, a reading about someone who never said yes is not.
    Consents with a recipient decide sharing, not collection, so they do not count (as in the
    gate).
    """
    s, p, c = t.streams.c, t.purposes.c, t.consents.c
    with context.engine.connect() as connection:
        bases: defaultdict[int, list[str | None]] = defaultdict(list)
        names: dict[int, str] = {}
        for stream_id, model, name, basis in connection.execute(
            select(s.id, s.model_id, s.name, p.legal_basis)
            .join(t.purposes, p.stream_id == s.id)
            .where(s.personal.is_(True), s.retired_at.is_(None))
        ):
            bases[int(stream_id)].append(basis)
            names[int(stream_id)] = f"{model}/{name}"
        waiting = sorted(sid for sid, listed in bases.items() if all(map(is_consent, listed)))
        if not waiting:
            return Finding(
                "consent.before-collection",
                Verdict.not_applicable,
                "No stream waits for consent before it collects.",
            )
        given = {
            (int(stream), str(subject))
            for stream, subject in connection.execute(
                select(c.stream_id, c.subject_id)
                .where(c.state == "given", c.recipient_id.is_(None), c.stream_id.in_(waiting))
                .distinct()
            )
        }
        held = count_by_subject(connection, waiting)
    without = [
        (stream, count)
        for (stream, subject), count in held.items()
        if subject is None or (stream, subject) not in given
    ]
    streams = tuple(sorted({names[stream] for stream, _count in without}))
    evidence: Evidence = {
        "consent_only_streams": tuple(names[sid] for sid in waiting),
        "readings_checked": sum(held.values()),
        "readings_without_consent": sum(count for _stream, count in without),
        "streams_with_readings_without_consent": streams,
    }
    if without:
        return Finding(
            "consent.before-collection",
            Verdict.failed,
            f"{evidence['readings_without_consent']} reading(s) of {', '.join(streams)} are "
            "about people who never gave consent for them.",
            evidence,
        )
    return Finding(
        "consent.before-collection",
        Verdict.passed,
        f"Every reading of the {len(waiting)} consent-only stream(s) is about someone who gave "
        "consent for it.",
        evidence,
    )
