"""`goodthings init`, `apply` and `manifest`: what an operator types, and what they get back."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.store import tables as t
from goodthings.core.store.engine import open_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_a_working_deployment_with_private_keys(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    ran = run(capsys, "init", str(home.root), "--example", "smart-home")
    assert ran.code == 0, ran.err
    assert "Created a deployment from the 'smart-home' example" in ran.out
    assert home.manifest_path.read_text().startswith("# A smart home")
    assert _mode(home.keys_dir) == 0o700
    assert _mode(home.keys_dir / "master.key") == 0o600
    assert _mode(home.keys_dir / "signing.key") == 0o600
    assert _mode(home.root / "goodthings.db") == 0o600
    engine = open_engine(home.database_url)
    with engine.connect() as connection:
        devices = connection.execute(select(t.devices.c.id)).scalars().all()
    engine.dispose()
    assert "band-alex" in devices


def test_init_never_overwrites_a_deployment(capsys: pytest.CaptureFixture[str], home: Home) -> None:
    assert run(capsys, "init", str(home.root)).code == 0
    key = (home.keys_dir / "master.key").read_bytes()
    ran = run(capsys, "init", str(home.root))
    assert ran.code == 1
    assert "already holds a deployment" in ran.err
    assert (home.keys_dir / "master.key").read_bytes() == key


def test_init_refuses_an_unknown_example(capsys: pytest.CaptureFixture[str], home: Home) -> None:
    ran = run(capsys, "init", str(home.root), "--example", "space-station")
    assert ran.code == 1
    assert "there is no example 'space-station'; choose one of: smart-home" in ran.err
    assert not home.root.exists() or not any(home.root.iterdir())


def test_keys_readable_by_others_are_refused(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    from goodthings.core.errors import DeploymentError
    from goodthings.core.keys.files import load_master_key

    run(capsys, "init", str(home.root))
    (home.keys_dir / "master.key").chmod(0o644)
    with pytest.raises(DeploymentError, match=r"can be read by other users.*chmod 600"):
        load_master_key(home.keys_dir)


def test_manifest_check_exits_1_and_lists_problems_on_stderr(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    example = Path(__file__).resolve().parent.parent / "examples" / "smart-home.yaml"
    bad.write_text(example.read_text().replace("kind: home", "kind: house"))
    ran = run(capsys, "manifest", "check", str(bad))
    assert ran.code == 1
    assert f"{bad}:" in ran.err and "places[0].kind" in ran.err
    assert ran.out == ""
    good = run(capsys, "manifest", "check", str(example))
    assert good.code == 0 and "is valid: 1 places, 5 devices" in good.out


def test_manifest_check_warns_of_a_pre_release_dpv_name_with_its_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    old = tmp_path / "old.yaml"
    example = Path(__file__).resolve().parent.parent / "examples" / "smart-home.yaml"
    text = example.read_text().replace("data_category: Behavioural", "data_category: Behavioral")
    old.write_text(text)
    line = text[: text.index("data_category: Behavioral")].count("\n") + 1
    ran = run(capsys, "manifest", "check", str(old))
    assert ran.code == 0 and "is valid" in ran.out
    assert f"warning: {old}:{line}: device_models[2].streams[0].data_category: " in ran.err
    assert "DPV 2.3 calls it 'Behavioural'" in ran.err


def test_manifest_schema_is_json_schema_with_the_dpv_terms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = run(capsys, "manifest", "schema")
    assert ran.code == 0
    schema = json.loads(ran.out)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"deployment", "operator", "places", "device_models"} <= set(schema["properties"])
    assert "ServiceProvision" in json.dumps(schema)


def test_invalid_manifest_changes_nothing_in_the_store(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    run(capsys, "init", str(home.root))
    db = home.root / "goodthings.db"
    text = home.manifest_path.read_text()
    home.manifest_path.write_text(
        text.replace("model: thermia-t5\n    place", "model: nope\n    place")
    )
    engine = open_engine(home.database_url)
    with engine.connect() as connection:
        before = connection.execute(select(t.devices)).all()
    ran = run(capsys, "apply", "--home", str(home.root))
    assert ran.code == 1
    assert "devices[1].model: there is no device model 'nope'" in ran.err
    with engine.connect() as connection:
        assert connection.execute(select(t.devices)).all() == before
    engine.dispose()
    assert db.exists()


def test_apply_prints_the_plan_and_dry_run_keeps_the_store(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    run(capsys, "init", str(home.root))
    text = home.manifest_path.read_text()
    home.manifest_path.write_text(text.replace('firmware: "5.1.0"', 'firmware: "5.0.2"'))
    dry = run(capsys, "apply", "--home", str(home.root), "--dry-run")
    assert dry.code == 0
    assert "~ change device thermostat-1\n      firmware version: 5.1.0 → 5.0.2" in dry.out
    again = run(capsys, "apply", "--home", str(home.root))
    assert (
        "~ change device thermostat-1\n      firmware version: 5.1.0 → 5.0.2" in again.out
        and "Applied." in again.out
    )
    last = run(capsys, "apply", "--home", str(home.root))
    assert "No changes" in last.out


def test_home_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(capsys, "init", str(home.root))
    monkeypatch.setenv("GOODTHINGS_HOME", str(home.root))
    ran = run(capsys, "apply", "--dry-run")
    assert ran.code == 0 and "No changes" in ran.out


def test_apply_outside_a_deployment_says_how_to_make_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ran = run(capsys, "apply", "--home", str(tmp_path / "nowhere"))
    assert ran.code == 1
    assert "goodthings init DIR" in ran.err
