"""`goodthings apply` killed with SIGKILL at random moments: the store is at the old plan or
the new one, never between (`apply --dry-run` shows all of the plan or nothing), every device
the new plan added has its credential, and the ledger verifies."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from goodthings.core import ledger
from goodthings.core.config import Home
from goodthings.core.keys import load_signing_key
from goodthings.core.manifest import load_manifest
from goodthings.core.store import open_engine
from goodthings.core.store import tables as t
from goodthings.deployment import plan_for
from hubs import clean_environment
from kill_helpers import goodthings
from templates import init_from_template

ROUNDS = 4
ADDED = [f"sensor-{number:02}" for number in range(6)]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smart home applied, and beside it a manifest that adds six devices."""
    root = tmp_path_factory.mktemp("apply-killed") / "home"
    init_from_template(Home(root), "smart-home")
    text = (root / "goodthings.yaml").read_text(encoding="utf-8")
    added = "".join(
        f"  - id: {device}\n    name: Sensor {device}\n    model: opensense-d1\n"
        f'    place: flat-4\n    firmware: "1.8.0"\n'
        for device in ADDED
    )
    (root / "next.yaml").write_text(text.replace("devices:\n", f"devices:\n{added}", 1))
    return root


def _side(root: Path, changes: int) -> str:
    """'before' or 'after', checking everything that makes it so."""
    home = Home(root)
    engine = open_engine(home.database_url)
    try:
        with engine.connect() as connection:
            left = plan_for(connection, load_manifest(root / "next.yaml")).changes
            credentialed = set(connection.execute(select(t.device_tokens.c.device_id)).scalars())
        assert ledger.check(engine, load_signing_key(home.keys_dir).public_key()).ok
    finally:
        engine.dispose()
    assert len(left) in (0, changes), f"{len(left)} of {changes} changes left: half-way"
    if left:
        return "before"
    missing = set(ADDED) - credentialed
    assert not missing, f"added without a credential: {sorted(missing)}"
    return "after"


def _apply(root: Path) -> list[str]:
    return goodthings(root, "apply", "--manifest", str(root / "next.yaml"), "--yes")


def test_an_apply_killed_at_random_moments_leaves_the_old_plan_or_the_new(
    prepared: Path, tmp_path: Path
) -> None:
    engine = open_engine(Home(prepared).database_url)
    with engine.connect() as connection:
        changes = len(plan_for(connection, load_manifest(prepared / "next.yaml")).changes)
    engine.dispose()
    assert changes == len(ADDED)
    whole = tmp_path / "whole"
    shutil.copytree(prepared, whole)
    began = time.monotonic()
    done = subprocess.run(_apply(whole), env=clean_environment(), capture_output=True, check=False)
    took = time.monotonic() - began
    assert done.returncode == 0, done.stderr
    assert _side(whole, changes) == "after"
    chance = random.Random(3)
    for number in range(ROUNDS):
        root = tmp_path / f"round-{number}"
        shutil.copytree(prepared, root)
        with subprocess.Popen(
            _apply(root),
            env=clean_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as applying:
            # Start-up is most of the run: kill in its second half, where the plan is written.
            time.sleep(chance.uniform(took * 0.6, took))
            applying.send_signal(signal.SIGKILL)
            applying.wait()
        _side(root, changes)
