"""An auditor verifies a report on another machine: the bundle alone, no hub, every byte covered."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli_helpers import run
from goodthings.assessment import export_bundle, sign_report, verify_bundle
from goodthings.core.ledger import key_id
from goodthings.runtime import Hub
from portal_helpers import give


@pytest.fixture
def bundle(smart_home: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    """A bundle exported from a real assessment, then moved where the hub is not."""
    give(smart_home, ("alex", "heart_rate", "ServicePersonalisation"))
    root = str(smart_home.home.root)
    assert run(capsys, "assess", "--home", root).code == 0
    exported = tmp_path / "exported"
    ran = run(capsys, "assess", "export", "--home", root, "--out", str(exported))
    assert ran.code == 0, ran.err
    elsewhere = tmp_path / "another-machine" / "bundle"
    shutil.copytree(exported, elsewhere)
    shutil.rmtree(exported)
    return elsewhere


def test_a_bundle_verifies_on_a_fresh_directory_with_no_hub(
    bundle: Path, smart_home: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = key_id(smart_home.signer.public_key())
    smart_home.close()
    shutil.rmtree(smart_home.home.root)  # nothing of the hub is left to ask
    ran = run(capsys, "assess", "verify", str(bundle), "--key-id", expected)
    assert ran.code == 0, ran.err
    assert f"signed by key {expected}" in ran.out
    names = {path.name for path in bundle.iterdir()}
    assert names == {
        "report.json",
        "checkpoint.json",
        "public-key.pem",
        "report.html",
        "bundle.json",
        "bundle.sig",
    }


def test_any_changed_byte_in_any_file_is_named(bundle: Path) -> None:
    chance = random.Random(8)
    for path in sorted(bundle.iterdir()):
        original = path.read_bytes()
        small = len(original) <= 512
        positions = range(len(original)) if small else chance.sample(range(len(original)), 40)
        for position in positions:
            changed = bytearray(original)
            changed[position] ^= 0x01
            path.write_bytes(bytes(changed))
            _, problems = verify_bundle(bundle)
            assert problems, f"{path.name}: a change at byte {position} went unnoticed"
        path.write_bytes(original)
    assert verify_bundle(bundle)[1] == []


def test_a_file_added_or_removed_is_named(bundle: Path) -> None:
    (bundle / "extra.txt").write_text("trust me")
    assert verify_bundle(bundle)[1] == ["extra.txt is not part of the signed bundle: it was added"]
    (bundle / "extra.txt").unlink()
    (bundle / "checkpoint.json").unlink()
    problems = verify_bundle(bundle)[1]
    assert "checkpoint.json is missing from the bundle" in problems


def test_a_bundle_signed_again_with_another_key_is_caught_by_the_published_key_id(
    bundle: Path, smart_home: Hub, tmp_path: Path
) -> None:
    """Whoever holds another key can sign a whole new bundle: only the key the deployment
    publishes tells them apart, which is why verify prints it and takes --key-id."""
    report = json.loads((bundle / "report.json").read_bytes())["report"]
    report["summary"]["fail"] = 0
    report["ledger"] = None  # the forger cannot sign the deployment's checkpoint either
    forger = Ed25519PrivateKey.generate()
    forged = tmp_path / "forged"
    export_bundle(sign_report(report, forger), "<p>all fine</p>", forger, forged)
    signing_key, problems = verify_bundle(forged)
    assert signing_key == key_id(forger.public_key()) and problems == []
    genuine = key_id(smart_home.signer.public_key())
    _, pinned = verify_bundle(forged, expected_key_id=genuine)
    assert f"the bundle is signed with key {signing_key}, not {genuine}" in pinned


def test_export_before_any_assessment_says_what_to_do(
    smart_home: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ran = run(
        capsys, "assess", "export", "--home", str(smart_home.home.root), "--out",
        str(tmp_path / "b"),
    )  # fmt: skip
    assert ran.code == 1
    assert "run `goodthings assess` first" in ran.err


def test_verify_of_something_that_is_no_bundle_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = run(capsys, "assess", "verify", str(tmp_path / "nothing"))
    assert ran.code == 1 and "is not a bundle directory" in ran.err
    (tmp_path / "half").mkdir()
    ran = run(capsys, "assess", "verify", str(tmp_path / "half"))
    assert ran.code == 1 and "the bundle has no public-key.pem" in ran.err
