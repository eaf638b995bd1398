"""Every command answers obviously bad input with a plain message and a non-zero exit status:
never a traceback, never the "this is a bug" line.

The first test walks the command tree, so a command added later is checked too.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest
from typer._click.core import Command  # typer vendors click: its classes

from cli_helpers import Ran, commands, run
from goodthings.cli import EXIT_BUG
from goodthings.core.config import Home
from templates import init_from_template


def _with_home(path: list[str], command: Command) -> list[str] | None:
    """The command with every required value filled in, or None when it takes no --home."""
    options = {option for param in command.params for option in getattr(param, "opts", [])}
    if "--home" not in options:
        return None
    argv = list(path)
    for param in command.params:
        if param.required:
            argv += ["x"] if param.param_type_name == "argument" else [param.opts[0], "x"]
    return argv


WITH_HOME = [argv for path, cmd in commands() if (argv := _with_home(path, cmd)) is not None]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOODTHINGS_HOME", "GOODTHINGS_DATABASE_URL", "GOODTHINGS_MQTT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))


def _refused_plainly(ran: Ran) -> None:
    assert ran.code not in (0, EXIT_BUG), ran
    assert "Traceback" not in ran.out + ran.err
    assert "unexpected" not in ran.err, ran.err


@pytest.mark.parametrize("argv", WITH_HOME, ids=[" ".join(a[:2]) for a in WITH_HOME])
def test_every_command_refuses_a_missing_deployment_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    ran = run(capsys, *argv, "--home", str(tmp_path / "no-such-deployment"))
    _refused_plainly(ran)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = Home(tmp_path_factory.mktemp("bad-input") / "deployment")
    init_from_template(home, "smart-home")
    return home.root


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A path that does not exist, a directory, bytes that are nothing, an empty ZIP."""
    root = tmp_path_factory.mktemp("bad-files")
    (root / "a-directory").mkdir()
    (root / "garbage").write_bytes(bytes(range(256)) * 3)
    with zipfile.ZipFile(root / "empty.zip", "w"):
        pass
    identity = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSXZ3RTL"
    (root / "identity.txt").write_text(identity + "\n")
    return {
        "missing": root / "no-such-file",
        "directory": root / "a-directory",
        "garbage": root / "garbage",
    }


FILE_COMMANDS = [
    "senml resolve {f}",
    "senml resolve --cbor {f}",
    "receipt verify {f}",
    "receipt verify {garbage} --public-key {f}",
    "ledger verify --public-key {f} --home {home}",
    "manifest check {f}",
    "apply --manifest {f} --home {home}",
    "advisories import {f} --home {home}",
    "open-export {f} --identity {f} --out {tmp}/out.csv",
    "open-export {garbage} --identity {f} --out {tmp}/out.csv",
    "serve --home {home} --mqtt mqtts://127.0.0.1:1 --mqtt-ca {f}",
]


@pytest.mark.parametrize("kind", ["missing", "directory", "garbage"])
@pytest.mark.parametrize("command", FILE_COMMANDS)
def test_every_command_that_reads_a_file_refuses_a_bad_one_plainly(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    deployment: Path,
    files: dict[str, Path],
    command: str,
    kind: str,
) -> None:
    argv = command.format(
        f=files[kind], garbage=files["garbage"], home=deployment, tmp=tmp_path
    ).split()
    _refused_plainly(run(capsys, *argv))


OUTPUT_COMMANDS = [
    "export alex --out {out}.zip --home {home}",
    "sign flat-4 --out {out}.pdf --home {home}",
    "report processing --out {out}.pdf --home {home}",
    "device cert meter-1 --out {garbage} --home {home}",
    "subject invite alex --outbox {garbage} --home {home}",
    "init {garbage}",
]


@pytest.mark.parametrize("kind", ["in a missing directory", "a directory"])
@pytest.mark.parametrize("command", OUTPUT_COMMANDS)
def test_every_command_that_writes_a_file_refuses_a_bad_place_plainly(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    deployment: Path,
    files: dict[str, Path],
    command: str,
    kind: str,
) -> None:
    out = tmp_path / "no-such-directory" / "out" if kind == "in a missing directory" else tmp_path
    for suffix in (".zip", ".pdf"):
        (tmp_path.parent / f"{tmp_path.name}{suffix}").mkdir(exist_ok=True)
    argv = command.format(out=out, garbage=files["garbage"], home=deployment).split()
    _refused_plainly(run(capsys, *argv))


def test_an_export_that_is_not_an_export_is_refused_plainly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, files: dict[str, Path]
) -> None:
    root = files["garbage"].parent
    for archive in (files["garbage"], root / "empty.zip"):
        ran = run(
            capsys, "open-export", str(archive), "--identity", str(root / "identity.txt"),
            "--out", str(tmp_path / "out.csv"),
        )  # fmt: skip
        _refused_plainly(ran)


BAD_VALUES = [
    "serve --home {home} --port 99999",
    "serve --home {home} --port abc",
    "serve --home {home} --mqtt-port -1",
    "serve --home {home} --mqtt ftp://broker",
    "serve --home {home} --mqtt mqtt://127.0.0.1:99999",
    "demo --port -5",
    "bench --readings -1",
    "bench --pack-size 0",
    "bench --rounds 0",
    "notice --format xml --home {home}",
    "notice --lang xx --home {home}",
    "device rotate meter-1 --grace-hours -1 --home {home}",
    "device cert meter-1 --days -3 --out {tmp}/c --home {home}",
    "device add x --model nope --place nope --home {home}",
    "subject invite alex --hours -1 --home {home}",
    "subject invite alex --hours 1e300 --home {home}",
    "consent give --subject alex --stream x --purpose y --level zzz --home {home}",
    "share replay -1 --home {home}",
    "export alex --out {tmp}/e.zip --recipient not-age --home {home}",
    "init {tmp}/new --example nosuch",
    "init {home}",
]


@pytest.mark.parametrize("command", BAD_VALUES)
def test_a_bad_option_value_is_refused_plainly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, deployment: Path, command: str
) -> None:
    _refused_plainly(run(capsys, *command.format(home=deployment, tmp=tmp_path).split()))


def test_an_unexpected_error_is_one_line_with_a_hint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("goodthings.cli.app", lambda **_: broken())
    ran = run(capsys, "manifest", "schema")
    assert ran.code == EXIT_BUG
    assert ran.err.strip() == (
        "error: unexpected ZeroDivisionError: division by zero. This is a bug in goodthings: "
        "run the command again with GOODTHINGS_TRACEBACK=1 to see where it happened, and "
        "please report it."
    )
    monkeypatch.setenv("GOODTHINGS_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):
        run(capsys, "manifest", "schema")


@pytest.mark.parametrize("url", ["ftp://hub:hunter2@broker", "mqtt://hub:hunter2@127.0.0.1:99999"])
def test_a_bad_broker_url_is_refused_without_repeating_its_password(
    capsys: pytest.CaptureFixture[str], deployment: Path, url: str
) -> None:
    ran = run(capsys, "serve", "--home", str(deployment), "--mqtt", url)
    _refused_plainly(ran)
    assert "the broker URL (--mqtt, GOODTHINGS_MQTT_URL)" in ran.err
    assert "hunter2" not in ran.err + ran.out
