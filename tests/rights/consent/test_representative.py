"""A representative who decides for a person who cannot (the care home's example: Ann Hughes
for her mother Margaret): declared in the manifest, their consent counts as the person's, and
the ledger says who gave it on whose behalf."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.errors import ManifestError
from goodthings.core.keys import SIGNING_PUBLIC_KEY, load_public_key
from goodthings.core.manifest import load_manifest_text
from goodthings.core.store import tables as t
from goodthings.core.store import tables_portal as tp
from goodthings.deployment.directory import example_text, open_store
from goodthings.policy import inputs
from goodthings.rights.receipts import verify
from goodthings.web.app import create_app
from templates import init_from_template

CONSENT = ["--stream", "in_bed", "--purpose", "AcademicResearch"]


@pytest.fixture
def care_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    monkeypatch.delenv("GOODTHINGS_DATABASE_URL", raising=False)
    home = Home(tmp_path / "care-home")
    init_from_template(home, "care-home")
    return home


def test_the_representatives_consent_counts_as_the_persons(
    capsys: pytest.CaptureFixture[str], care_home: Home
) -> None:
    home = ["--home", str(care_home.root)]
    ran = run(
        capsys, "consent", "give", "--subject", "margaret", *CONSENT, "--by-representative", *home
    )
    assert ran.code == 0, ran.err
    assert "Given by Ann Hughes (daughter, lasting power of attorney" in ran.out
    assert "on behalf of margaret" in ran.out
    engine = open_store(care_home)
    try:
        with engine.connect() as connection:
            choices = inputs.read_inputs(connection).choices
            entry = connection.execute(
                select(t.ledger_entries).order_by(t.ledger_entries.c.seq.desc()).limit(1)
            ).one()
    finally:
        engine.dispose()
    assert any(
        "margaret" in str(choice) and "AcademicResearch" in str(choice) for choice in choices
    )
    assert entry.actor == "representative of subject:margaret"
    assert entry.action == "consent.give"


def test_json_names_the_representative(capsys: pytest.CaptureFixture[str], care_home: Home) -> None:
    argv = ["consent", "withdraw", "--subject", "margaret", *CONSENT, "--by-representative"]
    ran = run(capsys, *argv, "--json", "--home", str(care_home.root))
    assert ran.code == 0, ran.err
    assert json.loads(ran.out)["given_by"].startswith("Ann Hughes")


def test_nobody_represents_a_person_the_manifest_does_not_say_so_for(
    capsys: pytest.CaptureFixture[str], care_home: Home
) -> None:
    argv = ["consent", "give", "--subject", "arthur", *CONSENT, "--by-representative"]
    ran = run(capsys, *argv, "--home", str(care_home.root))
    assert ran.code == 1
    assert "names no representative for 'arthur'" in ran.err


def test_a_representation_for_an_unknown_place_is_refused_with_its_line() -> None:
    text = example_text("care-home").replace("      places: [room-1]\n", "      places: [attic]\n")
    with pytest.raises(ManifestError) as raised:
        load_manifest_text(text)
    (problem,) = raised.value.problems
    assert problem.field.startswith("subjects[0].represented_by.places")
    assert problem.line == text.splitlines().index("      places: [attic]") + 1
    assert "there is no place 'attic'" in problem.message


def _receipt_of_latest_consent(home: Home) -> tuple[str, str | None]:
    """The newest consent's signed receipt and the representative its record names."""
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            record = connection.execute(
                select(t.consents.c.id, t.consents.c.given_by)
                .order_by(t.consents.c.id.desc())
                .limit(1)
            ).one()
            document = connection.execute(
                select(tp.consent_receipts.c.document).where(
                    tp.consent_receipts.c.consent_id == record.id
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return document, record.given_by


def test_a_representatives_receipt_says_who_gave_it_on_whose_behalf(
    capsys: pytest.CaptureFixture[str], care_home: Home
) -> None:
    argv = ["consent", "give", "--subject", "margaret", *CONSENT, "--by-representative"]
    assert run(capsys, *argv, "--home", str(care_home.root)).code == 0
    document, given_by = _receipt_of_latest_consent(care_home)
    assert given_by is not None and given_by.startswith("Ann Hughes")
    checked = verify(document, load_public_key(care_home.keys_dir / SIGNING_PUBLIC_KEY))
    assert checked.with_published_key
    record = checked.receipt["dpv:hasRecordOfActivity"]
    (representative,) = [
        party for party in record["dpv:hasEntity"] if party["@type"] == "dpv:Representative"
    ]
    assert representative["dpv:hasName"] == given_by
    subject = record["dpv:hasDataSubject"]
    assert representative["dpv:isRepresentativeFor"] == {"@id": subject["@id"]}
    assert subject["dpv:hasRepresentative"] == {"@id": representative["@id"]}
    status = record["dpv:hasConsentStatus"]
    assert status["dpv:isIndicatedBy"] == {"@id": representative["@id"]}
    assert "representative, Ann Hughes" in status["dpv:hasIndicationMethod"]
    shown = run(capsys, "consent", "show", "--subject", "margaret", "--home", str(care_home.root))
    assert "by Ann Hughes (daughter" in shown.out


def test_the_persons_own_consent_names_no_representative(
    capsys: pytest.CaptureFixture[str], care_home: Home
) -> None:
    argv = ["consent", "give", "--subject", "margaret", *CONSENT]
    assert run(capsys, *argv, "--home", str(care_home.root)).code == 0
    document, given_by = _receipt_of_latest_consent(care_home)
    assert given_by is None
    checked = verify(document, load_public_key(care_home.keys_dir / SIGNING_PUBLIC_KEY))
    assert checked.with_published_key
    record = checked.receipt["dpv:hasRecordOfActivity"]
    assert "Representative" not in document
    assert record["dpv:hasConsentStatus"]["dpv:isIndicatedBy"] == {
        "@id": record["dpv:hasDataSubject"]["@id"]
    }
    shown = run(capsys, "consent", "show", "--subject", "margaret", "--home", str(care_home.root))
    assert "on their behalf" not in shown.out


def test_the_api_records_and_shows_who_gave_a_consent(care_home: Home) -> None:
    with TestClient(create_app(care_home)) as client:
        token = client.app.state.hub.operator_token  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"stream": "in_bed", "purpose": "AcademicResearch", "state": "given"}
        given = client.post(
            "/api/v1/subjects/margaret/consents",
            json={**body, "by_representative": True},
            headers=headers,
        )
        assert given.status_code == 201, given.text
        assert given.json()["given_by"].startswith("Ann Hughes (daughter")
        own = client.post("/api/v1/subjects/margaret/consents", json=body, headers=headers)
        assert own.status_code == 201, own.text
        assert own.json()["given_by"] is None
        history = client.get("/api/v1/subjects/margaret/consents", headers=headers).json()
    assert [change["given_by"] is not None for change in history] == [True, False]


def test_migration_0015_gives_consents_the_column_the_code_describes(care_home: Home) -> None:
    engine = open_store(care_home)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), t.metadata)
    finally:
        engine.dispose()
    assert [d for d in differences if "consents" in repr(d)] == []
    assert "given_by" in t.consents.c
