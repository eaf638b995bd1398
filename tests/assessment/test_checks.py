"""Each automatic check, on the good smart-home example and on one broken the way a careless
operator would break it (direct SQL, a default password, an expired support period ...)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from cli_helpers import run
from goodthings.assessment import CHECKS, Context, Finding, Verdict
from goodthings.core import ledger
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.runtime import Hub
from goodthings.security import fingerprint, set_password
from portal_helpers import give, send

STRONG = "Quiet-Marmot-Juggles-47-Kettles"
NOW = datetime.now(UTC)


def _context(hub: Hub) -> Context:
    key = load_public_key(hub.home.keys_dir / SIGNING_PUBLIC_KEY)
    return Context(hub.engine, hub.password_key, key, NOW, public_url=hub.home.settings.public_url)


def _run(hub: Hub, check: str) -> Finding:
    return CHECKS[check](_context(hub))


def _plant_password(hub: Hub, device: str, password: str) -> None:
    """What an older tool or a hand-edit would do: bypass the policy and store the password."""
    with hub.engine.begin() as connection:
        connection.execute(
            insert(t.device_tokens).values(
                id=f"planted-{device}",
                device_id=device,
                kind="password",
                secret_hash="not-checked-here",
                fingerprint=fingerprint(hub.password_key, password),
                created_at=NOW,
            )
        )


def test_the_good_example_fails_no_check(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        set_password(connection, "meter-1", STRONG, smart_home.password_key)
    verdicts = {check: _run(smart_home, check).verdict for check in CHECKS}
    assert Verdict.failed not in verdicts.values(), verdicts
    assert verdicts["credentials.no-known-password"] is Verdict.passed
    assert verdicts["ledger.verifies"] is Verdict.passed
    assert verdicts["disclosure.security-txt-fresh"] is Verdict.passed


def test_a_default_password_on_a_device_fails(smart_home: Hub) -> None:
    _plant_password(smart_home, "thermostat-1", "admin")
    finding = _run(smart_home, "credentials.no-known-password")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["devices_with_known_password"] == ("thermostat-1",)
    assert "thermostat-1" in finding.summary
    assert "admin" not in json.dumps(finding.evidence) + finding.summary


def test_a_password_shared_by_two_devices_fails(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        set_password(connection, "meter-1", STRONG, smart_home.password_key)
    _plant_password(smart_home, "front-door", STRONG)
    finding = _run(smart_home, "credentials.unique")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["devices_sharing_a_password"] == ("front-door", "meter-1")
    assert STRONG not in json.dumps(finding.evidence) + finding.summary
    assert _run(smart_home, "credentials.no-known-password").verdict is Verdict.passed


def test_a_revoked_default_password_no_longer_counts(smart_home: Hub) -> None:
    _plant_password(smart_home, "thermostat-1", "admin")
    with smart_home.engine.begin() as connection:
        connection.execute(update(t.device_tokens).values(revoked_at=NOW - timedelta(hours=1)))
    assert _run(smart_home, "credentials.no-known-password").verdict is Verdict.not_applicable


def test_an_expired_support_period_fails(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        connection.execute(
            update(t.device_models)
            .where(t.device_models.c.id == "thermia-t5")
            .values(support_until=(NOW - timedelta(days=1)).date())
        )
    finding = _run(smart_home, "support.in-future")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["models_past_support"] == ("thermia-t5",)


def test_a_missing_disclosure_policy_fails(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        spec = dict(connection.execute(t.operator.select()).mappings().one()["spec"])
        del spec["vulnerability_disclosure"]
        connection.execute(update(t.operator).values(spec=spec))
    finding = _run(smart_home, "disclosure.published")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["missing"] == ("contact", "policy_url")


def test_a_changed_ledger_entry_fails(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        for n in range(3):
            ledger.append(
                connection, smart_home.signer, actor="test", action="note", target=f"n:{n}"
            )
    assert _run(smart_home, "ledger.verifies").verdict is Verdict.passed
    with smart_home.engine.begin() as connection:
        connection.execute(
            update(t.ledger_entries)
            .where(t.ledger_entries.c.seq == 2)
            .values(counts={"deleted": 0})
        )
    finding = _run(smart_home, "ledger.verifies")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["first_bad_seq"] == 2


def test_a_personal_value_written_in_clear_by_direct_sql_fails(smart_home: Hub) -> None:
    """The gate seals every personal value; a row written around it must still be found."""
    give(smart_home, ("alex", "heart_rate", "ServicePersonalisation"))
    assert send(smart_home, "band-alex", "heart_rate", [71.0, 72.0]) == 2
    before = _run(smart_home, "at-rest.sealed")
    assert before.verdict is Verdict.passed and before.evidence["readings_scanned"] == 2
    with smart_home.engine.begin() as connection:
        stream = connection.execute(
            select(t.streams.c.id).where(t.streams.c.name == "heart_rate")
        ).scalar_one()
        connection.execute(
            insert(t.readings).values(
                device_id="band-alex", stream_id=stream, subject_id="alex", time=1.0, value=73.0
            )
        )
    finding = _run(smart_home, "at-rest.sealed")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["readings_in_clear"] == 1
    assert finding.evidence["streams_with_values_in_clear"] == ("pulse-band-2/heart_rate",)
    assert "73" not in finding.summary + json.dumps(dict(finding.evidence))


def test_sealed_at_rest_does_not_apply_without_personal_streams(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        connection.execute(update(t.streams).values(personal=False))
    assert _run(smart_home, "at-rest.sealed").verdict is Verdict.not_applicable


def test_notices_in_two_languages_and_plain_words_pass(smart_home: Hub) -> None:
    finding = _run(smart_home, "notices.readable")
    assert finding.verdict is Verdict.passed, finding.summary
    assert finding.evidence["languages"] == ("en", "fr")
    assert float(str(finding.evidence["worst_grade"])) <= 8


def test_a_manifest_applied_with_legalese_fails_the_notices_check(smart_home: Hub) -> None:
    """The operator's own words are part of the notice: written as a contract, it fails."""
    legalese = (
        "The controller processes personal data pursuant to legitimate interests "
        "notwithstanding the applicable derogations established by supervisory authorities"
    )
    with smart_home.engine.begin() as connection:
        row = (
            connection.execute(
                select(t.manifest_versions).order_by(t.manifest_versions.c.id.desc()).limit(1)
            )
            .mappings()
            .one()
        )
        text = re.sub(
            r"(\n\s+how:\n\s+en: ).*", lambda m: m.group(1) + legalese + ".", row["content"]
        )
        assert text != row["content"]
        values = {k: v for k, v in row.items() if k != "id"}
        values.update(content=text, sha256=hashlib.sha256(text.encode()).hexdigest())
        connection.execute(insert(t.manifest_versions).values(**values))
    finding = _run(smart_home, "notices.readable")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["notices_with_a_hard_sentence"]
    assert "hold a sentence above grade 20" in finding.summary


def test_legalese_in_the_french_text_alone_fails_the_french_notices(smart_home: Hub) -> None:
    """Each language is measured: plain English does not excuse a French text written as a
    contract."""
    legalese = (
        "Le responsable du traitement procède au traitement des données à caractère personnel "
        "conformément aux intérêts légitimes nonobstant les dérogations applicables établies "
        "par les autorités de contrôle compétentes, sous réserve des dispositions "
        "réglementaires complémentaires relatives à la conservation, à la communication "
        "et à l'interconnexion des fichiers administratifs"
    )
    with smart_home.engine.begin() as connection:
        row = (
            connection.execute(
                select(t.manifest_versions).order_by(t.manifest_versions.c.id.desc()).limit(1)
            )
            .mappings()
            .one()
        )
        text = re.sub(
            r"(\n\s+how:\n\s+en: .*\n\s+fr: ).*",
            lambda m: m.group(1) + '"' + legalese + '."',
            row["content"],
            count=1,
        )
        assert text != row["content"]
        values = {k: v for k, v in row.items() if k != "id"}
        values.update(content=text, sha256=hashlib.sha256(text.encode()).hexdigest())
        connection.execute(insert(t.manifest_versions).values(**values))
    finding = _run(smart_home, "notices.readable")
    assert finding.verdict is Verdict.failed
    hard = finding.evidence["notices_with_a_hard_sentence"]
    assert hard and all(str(where).endswith("(fr)") for where in hard), hard


def test_a_personal_stream_without_retention_fails(smart_home: Hub) -> None:
    with smart_home.engine.begin() as connection:
        connection.execute(
            update(t.streams)
            .where(t.streams.c.model_id == "wattwise-m2", t.streams.c.name == "power")
            .values(retention_seconds=None)
        )
    finding = _run(smart_home, "retention.declared")
    assert finding.verdict is Verdict.failed
    assert finding.evidence["streams_without_retention"] == ("wattwise-m2/power",)


@pytest.mark.parametrize(("age_days", "verdict"), [(29, Verdict.passed), (32, Verdict.failed)])
def test_a_reading_kept_past_its_retention_fails(
    smart_home: Hub, age_days: int, verdict: Verdict
) -> None:
    """thermia-t5/temperature keeps readings 30 days; the purge is allowed a day's slack."""
    with smart_home.engine.begin() as connection:
        stream = connection.execute(
            t.streams.select().where(
                t.streams.c.model_id == "thermia-t5", t.streams.c.name == "temperature"
            )
        ).one()
        connection.execute(
            insert(t.readings).values(
                device_id="thermostat-1",
                stream_id=stream.id,
                time=(NOW - timedelta(days=age_days)).timestamp(),
                value=21.5,
            )
        )
    finding = _run(smart_home, "retention.enforced")
    assert finding.verdict is verdict
    overdue = ("thermia-t5/temperature",) if verdict is Verdict.failed else ()
    assert finding.evidence["streams_past_retention"] == overdue
    assert "21.5" not in json.dumps(finding.evidence) + finding.summary


@pytest.mark.parametrize(
    ("deadline_days", "completed_days", "verdict"),
    [
        (-1, None, Verdict.failed),  # deadline passed, still open
        (-5, -2, Verdict.failed),  # met, but after the deadline
        (-5, -6, Verdict.passed),  # met in time
        (10, None, Verdict.passed),  # still within its deadline
    ],
    ids=["open-past-deadline", "met-late", "met-in-time", "within-deadline"],
)
def test_erasure_requests_are_judged_by_their_deadline(
    smart_home: Hub, deadline_days: int, completed_days: int | None, verdict: Verdict
) -> None:
    completed = None if completed_days is None else NOW + timedelta(days=completed_days)
    with smart_home.engine.begin() as connection:
        connection.execute(
            insert(tp.erasure_requests).values(
                id="req-1",
                subject_id="alex",
                requested_at=NOW - timedelta(days=40),
                deadline=NOW + timedelta(days=deadline_days),
                method="cli",
                mode="erase",
                state="done" if completed else "pending",
                completed_at=completed,
            )
        )
    finding = _run(smart_home, "erasure.on-time")
    assert finding.verdict is verdict
    assert finding.evidence["late_requests"] == (("req-1",) if verdict is Verdict.failed else ())


@pytest.mark.parametrize(
    ("extended", "judged_after_days", "verdict"),
    [
        (False, 40, Verdict.failed),  # a month passed, no extension: late
        (True, 40, Verdict.passed),  # extended by two months, still within it
        (True, 100, Verdict.failed),  # past even the extended deadline
    ],
    ids=["late-without-extension", "late-but-extended", "past-the-extension"],
)
def test_an_erasure_extended_by_the_operator_is_judged_by_its_extension(
    capsys: pytest.CaptureFixture[str],
    smart_home: Hub,
    extended: bool,
    judged_after_days: int,
    verdict: Verdict,
) -> None:
    """The extension is recorded the way an operator records it, `goodthings requests extend`,
    within the first month; the check is then run as it would be weeks later."""
    with smart_home.engine.begin() as connection:
        connection.execute(
            insert(tp.erasure_requests).values(
                id="req-1",
                subject_id="alex",
                requested_at=NOW - timedelta(days=29),
                deadline=NOW + timedelta(days=1),
                method="letter",
                mode="erase",
                state="pending",
            )
        )
    if extended:
        ran = run(
            capsys,
            "requests",
            "extend",
            "erasure:req-1",
            "--reason",
            "Readings on three hubs to trace",
            "--by",
            "dpo",
            "--home",
            str(smart_home.home.root),
        )
        assert ran.code == 0, ran.err
        assert "erasure:req-1: deadline extended to " in ran.out
    later = replace(_context(smart_home), now=NOW + timedelta(days=judged_after_days))
    finding = CHECKS["erasure.on-time"](later)
    assert finding.verdict is verdict
    assert finding.evidence["extended"] == int(extended)
    assert finding.evidence["late_requests"] == (("req-1",) if verdict is Verdict.failed else ())


def test_an_erasure_extension_is_refused_after_the_deadline(
    capsys: pytest.CaptureFixture[str], smart_home: Hub
) -> None:
    with smart_home.engine.begin() as connection:
        connection.execute(
            insert(tp.erasure_requests).values(
                id="req-1",
                subject_id="alex",
                requested_at=NOW - timedelta(days=40),
                deadline=NOW - timedelta(days=9),
                method="letter",
                mode="erase",
                state="pending",
            )
        )
    argv = ["requests", "extend", "erasure:req-1", "--reason", "late", "--by", "dpo"]
    ran = run(capsys, *argv, "--home", str(smart_home.home.root))
    assert ran.code != 0
    assert "the deadline has passed" in ran.err
    assert CHECKS["erasure.on-time"](_context(smart_home)).verdict is Verdict.failed
