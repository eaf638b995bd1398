"""A deployment remembers how it runs: `init --database/--public-url`, `deployment set` and
`show`, and every later command on the recorded database and address, on SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from cli_helpers import run
from goodthings.cli.serve import address_mismatch
from goodthings.core.store import tables as t
from goodthings.core.store.engine import open_engine


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What an operator's fresh shell has: none of the variables the settings file replaces."""
    for name in ("GOODTHINGS_HOME", "GOODTHINGS_DATABASE_URL", "GOODTHINGS_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)


def _devices(url: str) -> int:
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(t.devices)).scalar_one())
    finally:
        engine.dispose()


def test_init_records_the_database_and_apply_uses_it_without_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    root = tmp_path / "deployment"
    made = run(capsys, "init", str(root), "--database", database_url)
    assert made.code == 0, made.err
    assert stat.S_IMODE((root / "settings.env").stat().st_mode) == 0o600
    again = run(capsys, "apply", "--home", str(root))
    assert again.code == 0, again.err
    assert "No changes: the store already matches the manifest." in again.out
    assert not (root / "goodthings.db").exists()  # no second database beside the first
    assert _devices(database_url) == 5


def test_subject_invite_and_sign_use_the_recorded_public_address(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root), "--public-url", "http://hub.example.test:18200/")
    invited = run(capsys, "subject", "invite", "alex", "--home", str(root))
    assert invited.code == 0, invited.err
    assert invited.out.startswith("http://hub.example.test:18200/portal/sign-in/")
    sign = tmp_path / "sign.svg"
    signed = run(capsys, "sign", "--place", "flat-4", "--out", str(sign), "--home", str(root))
    assert signed.code == 0, signed.err
    assert "http://hub.example.test:18200/notice/place/flat-4" in signed.out


def test_an_environment_naming_another_database_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    other = "postgresql://operator:s3cret@db.example.test/hub"
    monkeypatch.setenv("GOODTHINGS_DATABASE_URL", other)
    ran = run(capsys, "apply", "--home", str(root))
    assert ran.code == 1
    assert f"runs on sqlite:///{root / 'goodthings.db'} ({root / 'settings.env'})" in ran.err
    assert "GOODTHINGS_DATABASE_URL names postgresql://operator:***@db.example.test/hub" in ran.err
    assert "goodthings deployment set database URL" in ran.err
    assert "s3cret" not in ran.err


def test_an_environment_repeating_the_database_is_accepted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    monkeypatch.setenv("GOODTHINGS_DATABASE_URL", f"sqlite:///{root / 'goodthings.db'}")
    ran = run(capsys, "apply", "--home", str(root))
    assert ran.code == 0, ran.err


def test_an_environment_naming_another_public_address_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root), "--public-url", "https://hub.example.test")
    monkeypatch.setenv("GOODTHINGS_PUBLIC_URL", "http://127.0.0.1:8080")
    ran = run(capsys, "subject", "invite", "alex", "--home", str(root))
    assert ran.code == 1
    assert "is reached at https://hub.example.test" in ran.err
    assert "goodthings deployment set public-url URL" in ran.err


def test_a_missing_database_is_an_error_not_a_new_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    (root / "goodthings.db").unlink()
    ran = run(capsys, "apply", "--home", str(root), "--dry-run")
    assert ran.code == 1
    assert f"the database of the deployment in {root} is missing" in ran.err
    assert f"{root / 'goodthings.db'} does not exist" in ran.err
    assert not (root / "goodthings.db").exists()


def test_deployment_set_database_moves_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, postgres_url: str
) -> None:
    first = tmp_path / "first"
    run(capsys, "init", str(first), "--database", postgres_url)  # fills the PostgreSQL schema
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    moved = run(capsys, "deployment", "set", "database", postgres_url, "--home", str(root))
    assert moved.code == 0, moved.err
    shown = run(capsys, "deployment", "show", "--home", str(root))
    assert "postgresql" in shown.out and "(settings.env)" in shown.out
    applied = run(capsys, "apply", "--home", str(root), "--dry-run")
    assert applied.code == 0, applied.err
    assert "No changes" in applied.out


def test_deployment_set_refuses_what_it_could_not_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    before = (root / "settings.env").read_text()
    bad_db = run(capsys, "deployment", "set", "database", "mysql://x@y/z", "--home", str(root))
    assert bad_db.code == 1 and "SQLite and PostgreSQL" in bad_db.err
    bad_url = run(capsys, "deployment", "set", "public-url", "hub.example", "--home", str(root))
    assert bad_url.code == 1 and "is not an http:// or https:// address" in bad_url.err
    assert (root / "settings.env").read_text() == before
    elsewhere = run(capsys, "deployment", "set", "database", "sqlite://", "--home", str(tmp_path))
    assert elsewhere.code == 1 and "is not a deployment directory" in elsewhere.err


def test_deployment_set_public_url_keeps_the_file_private_and_its_comments(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    settings = root / "settings.env"
    settings.write_text("# ours\n" + settings.read_text())
    settings.chmod(0o644)
    ran = run(
        capsys, "deployment", "set", "public-url", "https://hub.example.test/", "--home", str(root)
    )
    assert ran.code == 0, ran.err
    assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    assert settings.read_text().startswith("# ours\n")
    assert "GOODTHINGS_PUBLIC_URL='https://hub.example.test'" in settings.read_text()
    invited = run(capsys, "subject", "invite", "alex", "--home", str(root))
    assert invited.out.startswith("https://hub.example.test/portal/sign-in/")


def test_a_database_password_readable_by_others_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    settings = root / "settings.env"
    settings.write_text(
        settings.read_text() + "GOODTHINGS_DATABASE_URL='postgresql://u:pw@127.0.0.1/test'\n"
    )
    settings.chmod(0o640)
    ran = run(capsys, "apply", "--home", str(root))
    assert ran.code == 1
    assert "holds a database password and can be read by other users" in ran.err
    assert f"chmod 600 {settings}" in ran.err


def test_an_unknown_setting_is_named(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    settings = root / "settings.env"
    settings.write_text(settings.read_text() + "GOODTHINGS_DATABSE_URL='sqlite://'\n")
    ran = run(capsys, "apply", "--home", str(root))
    assert ran.code == 1
    assert f"{settings}: unknown setting GOODTHINGS_DATABSE_URL" in ran.err


def test_a_deployment_without_settings_takes_the_environment(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deployments made before `settings.env` existed keep working as they did."""
    root = tmp_path / "deployment"
    run(capsys, "init", str(root), "--database", postgres_url)
    (root / "settings.env").unlink()
    monkeypatch.setenv("GOODTHINGS_DATABASE_URL", postgres_url)
    ran = run(capsys, "apply", "--home", str(root))
    assert ran.code == 0, ran.err
    assert "No changes" in ran.out


@pytest.mark.parametrize(
    ("public_url", "port", "warned"),
    [
        ("http://127.0.0.1:8080", 8080, False),
        ("http://127.0.0.1:8080", 18200, True),
        ("http://127.0.0.1:8080", 0, False),
        ("http://localhost", 80, False),
        ("https://[::1]", 8443, True),
        ("https://hub.example.test", 8080, False),  # behind a reverse proxy: not ours to judge
    ],
)
def test_serve_warns_when_the_public_address_is_this_machine_on_another_port(
    public_url: str, port: int, warned: bool
) -> None:
    said = address_mismatch(public_url, port)
    assert (said is not None) == warned
    if said is not None:
        assert f"serves on port {port}" in said
        assert f"goodthings deployment set public-url http://127.0.0.1:{port}" in said


def test_an_empty_database_for_a_deployment_set_up_elsewhere_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, database_url: str
) -> None:
    """`deployment set database` to the wrong, empty database: nothing is created there."""
    root = tmp_path / "deployment"
    run(capsys, "init", str(root))
    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).touch()
    moved = run(capsys, "deployment", "set", "database", database_url, "--home", str(root))
    assert moved.code == 0, moved.err
    ran = run(capsys, "apply", "--home", str(root))
    assert ran.code == 1
    assert "holds no goodthings deployment: nothing was changed" in ran.err
    assert f"as {root / 'settings.env'} says" in ran.err
    engine = open_engine(database_url)
    try:
        with engine.connect() as connection:
            assert not inspect(connection).has_table("devices")
    finally:
        engine.dispose()
