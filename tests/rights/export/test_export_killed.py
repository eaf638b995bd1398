"""`goodthings export` killed with SIGKILL at random moments: the archive under its name is
always whole (the older export, or the new one), what a kill leaves is a clearly named
`.partial` file that the next export removes, and the ledger verifies."""

from __future__ import annotations

import csv
import io
import random
import shutil
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from goodthings.core import ledger
from goodthings.core.config import Home
from goodthings.rights.export import partial_files
from goodthings.runtime import Hub
from hubs import clean_environment
from kill_helpers import PERSON, READINGS, goodthings, prepare

ROUNDS = 5


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare(tmp_path_factory.mktemp("export-killed") / "home")


def _readings_in(archive: Path) -> int:
    """How many readings a whole export holds; fails on a truncated or damaged archive."""
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.testzip() is None
        names = set(zipped.namelist())
        assert {"README.txt", "readings.csv", "ledger.jsonl", "erasure.json"} <= names
        text = zipped.read("readings.csv").decode("utf-8")
    return len(list(csv.reader(io.StringIO(text)))) - 1


def _ledger_ok(root: Path) -> bool:
    hub = Hub.open(Home(root))
    try:
        return ledger.check(hub.engine, hub.signer.public_key()).ok
    finally:
        hub.close()


def _writing(target: Path, exporting: subprocess.Popen[bytes]) -> float:
    """Wait until the export starts writing (a new file at or beside `target`); returns when."""
    before = target.stat().st_mtime_ns if target.exists() else None
    while exporting.poll() is None:
        now = target.stat().st_mtime_ns if target.exists() else None
        if now != before or list(target.parent.glob(f".{target.name}*")):
            break
        time.sleep(0.002)
    return time.monotonic()


def _run(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, env=clean_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def test_an_export_killed_at_random_moments_never_leaves_a_partial_archive_under_its_name(
    prepared: Path, tmp_path: Path
) -> None:
    root = tmp_path / "home"
    shutil.copytree(prepared, root)
    target = tmp_path / "alex.zip"
    command = goodthings(root, "export", PERSON, "--out", str(target))
    with _run(command) as exporting:
        began = _writing(target, exporting)
        assert exporting.wait() == 0, exporting.stderr.read() if exporting.stderr else ""
        window = time.monotonic() - began
    assert _readings_in(target) == READINGS
    chance = random.Random(7)
    interrupted = 0
    for _ in range(ROUNDS):
        with _run(command) as exporting:
            _writing(target, exporting)
            time.sleep(chance.uniform(0, window))
            exporting.send_signal(signal.SIGKILL)
            exporting.wait()
        assert _readings_in(target) == READINGS
        left = list(tmp_path.glob(".alex.zip*"))
        assert left == partial_files(target)
        interrupted += bool(left)
        assert _ledger_ok(root)
    assert interrupted, "no export was killed while it wrote"
    finished = subprocess.run(command, env=clean_environment(), capture_output=True, check=False)
    assert finished.returncode == 0, finished.stderr
    assert _readings_in(target) == READINGS
    assert partial_files(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alex.zip", "home"]
