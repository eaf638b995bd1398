"""SBOMs of device models: read with the formats' own libraries, named in the manifest, stored
at apply, and matched against advisories component by component, as Dependency-Track does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from advisory_helpers import DATA, flagged
from cli_helpers import run
from goodthings.core.config import Home
from goodthings.core.errors import ManifestError
from goodthings.core.manifest import load_manifest
from goodthings.deployment import apply_manifest, open_store
from goodthings.runtime.hub import Hub
from goodthings.security.advisories import (
    AdvisoryError,
    Component,
    model_components,
    read_sbom,
)
from templates import init_from_template

SBOMS = {"thermia-t5": "thermia-t5.cdx.json", "wattwise-m2": "wattwise-m2.spdx.json"}


def test_a_cyclonedx_sbom_gives_every_component_nested_and_described() -> None:
    components = read_sbom(DATA / "thermia-t5.cdx.json")
    assert {c.label() for c in components} == {
        "requests 2.88.2",
        "thermia-os 5.1.0",
        "openssl 1:1.1.1k-5.el8",
        "zlib 1.2.11",
        "Thermia T5 firmware 5.1.0",
    }
    [zlib] = [c for c in components if c.name == "zlib"]
    assert zlib.keys() == {"cpe:zlib:zlib"}


def test_an_spdx_sbom_gives_its_packages_with_their_purls() -> None:
    assert read_sbom(DATA / "wattwise-m2.spdx.json") == (
        Component("WattWise M2 firmware", "2.4.0"),
        Component("requests", "2.30.0", "pkg:pypi/requests@2.30.0"),
    )


def test_an_rpm_epoch_from_a_purl_qualifier_is_kept(tmp_path: Path) -> None:
    bom = json.loads((DATA / "thermia-t5.cdx.json").read_text())
    openssl = bom["components"][0]["components"][0]
    openssl["version"] = "1.1.1k-5.el8"  # the epoch only in the purl, as some tools write it
    (tmp_path / "bom.json").write_text(json.dumps(bom))
    versions = {c.name: c.version for c in read_sbom(tmp_path / "bom.json")}
    assert versions["openssl"] == "1:1.1.1k-5.el8"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not a readable JSON SBOM"),
        ('{"hello": "world"}', "neither a CycloneDX SBOM"),
        (
            '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": 7}',
            "not a valid CycloneDX SBOM",
        ),
        ('{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}', "not a valid SPDX document"),
    ],
)
def test_a_broken_sbom_is_refused_naming_the_file(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(AdvisoryError, match=message) as raised:
        read_sbom(path)
    assert str(path) in str(raised.value)


def _with_sboms(home: Home, sboms: dict[str, str] = SBOMS) -> Path:
    """The smart-home deployment with SBOM files beside its manifest, named in it."""
    init_from_template(home, "smart-home")
    (home.root / "sboms").mkdir()
    text = home.manifest_path.read_text()
    for model, name in sboms.items():
        shutil.copy(DATA / name, home.root / "sboms" / name)
        text = text.replace(f"  - id: {model}\n", f"  - id: {model}\n    sbom: sboms/{name}\n", 1)
    home.manifest_path.write_text(text)
    return home.manifest_path


def test_the_manifest_names_a_missing_sbom_with_file_and_line(home: Home) -> None:
    manifest = _with_sboms(home)
    (home.root / "sboms" / "wattwise-m2.spdx.json").unlink()
    with pytest.raises(ManifestError) as raised:
        load_manifest(manifest)
    [problem] = raised.value.problems
    line = manifest.read_text().splitlines().index("    sbom: sboms/wattwise-m2.spdx.json") + 1
    assert (problem.file, problem.line, problem.field) == (
        str(manifest),
        line,
        f"device_models[{_index(manifest, 'wattwise-m2')}].sbom",
    )
    assert "no file 'sboms/wattwise-m2.spdx.json' in the deployment directory" in problem.message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "is an absolute path"),
        ("../elsewhere/bom.json", "leads out of the deployment"),
    ],
)
def test_an_sbom_outside_the_deployment_is_refused(home: Home, path: str, message: str) -> None:
    manifest = _with_sboms(home)
    manifest.write_text(manifest.read_text().replace("sboms/thermia-t5.cdx.json", path))
    with pytest.raises(ManifestError, match=message):
        load_manifest(manifest)


def _index(manifest: Path, model: str) -> int:
    return [m["id"] for m in yaml.safe_load(manifest.read_text())["device_models"]].index(model)


def test_apply_stores_the_components_and_a_changed_sbom_is_in_the_plan(home: Home) -> None:
    manifest = _with_sboms(home)
    engine = open_store(home)
    try:
        applied = apply_manifest(engine, load_manifest(manifest))
        changed = sorted(c.row.key for c in applied.plan.changes if "sbom_sha256" in c.fields)
        assert changed == [("thermia-t5",), ("wattwise-m2",)]
        with engine.connect() as connection:
            stored = model_components(connection)
        assert [c.label() for c in stored["wattwise-m2"]] == [
            "WattWise M2 firmware 2.4.0",
            "requests 2.30.0",
        ]
        assert apply_manifest(engine, load_manifest(manifest), dry_run=True).plan.empty
        bom = json.loads((DATA / "wattwise-m2.spdx.json").read_text())
        bom["packages"][1]["versionInfo"] = "2.31.0"
        (home.root / "sboms" / "wattwise-m2.spdx.json").write_text(json.dumps(bom))
        plan = apply_manifest(engine, load_manifest(manifest)).plan
        assert [(c.row.key, c.fields) for c in plan.changes] == [
            (("wattwise-m2",), ("sbom_sha256",))
        ]
        with engine.connect() as connection:
            assert "requests 2.31.0" in [
                c.label() for c in model_components(connection)["wattwise-m2"]
            ]
    finally:
        engine.dispose()


@pytest.fixture
def hub_with_sboms(home: Home) -> Hub:
    _with_sboms(home)
    engine = open_store(home)
    try:
        apply_manifest(engine, load_manifest(home.manifest_path))
    finally:
        engine.dispose()
    return Hub.open(home)


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ("osv-pypi-requests.json", {("GT-2026-0107", "meter-1", "component requests 2.30.0")}),
        ("osv-npm-requests.json", {("GT-2026-0108", "thermostat-1", "component requests 2.88.2")}),
        (
            "osv-rpm-epoch.json",
            {("GT-2026-0109", "thermostat-1", "component openssl 1:1.1.1k-5.el8")},
        ),
        ("csaf-zlib-cpe.json", {("CERT-2026-0043", "thermostat-1", "component zlib 1.2.11")}),
    ],
)
def test_advisories_match_the_components_of_each_model(
    hub_with_sboms: Hub, record: str, expected: set[tuple[str, str, str]]
) -> None:
    try:
        assert flagged(hub_with_sboms, record) == expected
    finally:
        hub_with_sboms.close()


def test_advisories_list_says_which_component_of_which_model(
    capsys: pytest.CaptureFixture[str], hub_with_sboms: Hub, home: Home
) -> None:
    hub_with_sboms.close()
    where = ["--home", str(home.root)]
    imported = run(capsys, "advisories", "import", str(DATA / "osv-pypi-requests.json"), *where)
    assert imported.code == 0, imported.err
    assert "affected: meter-1 (component requests 2.30.0 of model wattwise-m2)" in imported.out
    text = run(capsys, "advisories", "list", *where).out
    assert "affected devices: meter-1 (component requests 2.30.0 of model wattwise-m2)" in text
    report = json.loads(run(capsys, "advisories", "list", "--json", *where).out)
    assert report["advisories"][0]["affected"] == [
        {"device": "meter-1", "model": "wattwise-m2", "component": "requests", "version": "2.30.0"}
    ]


def test_an_sbom_linked_from_outside_the_deployment_is_refused(home: Home, tmp_path: Path) -> None:
    manifest = _with_sboms(home)
    outside = tmp_path / "outside.json"
    shutil.copy(DATA / "thermia-t5.cdx.json", outside)
    link = home.root / "sboms" / "thermia-t5.cdx.json"
    link.unlink()
    link.symlink_to(outside)
    with pytest.raises(ManifestError, match="a link to a file outside the deployment directory"):
        load_manifest(manifest)


def test_apply_stops_on_a_broken_sbom_naming_it(
    capsys: pytest.CaptureFixture[str], home: Home
) -> None:
    _with_sboms(home)
    broken = home.root / "sboms" / "wattwise-m2.spdx.json"
    broken.write_text('{"spdxVersion": "SPDX-2.3"}')
    for dry_run in (["--dry-run"], []):
        ran = run(capsys, "apply", "--home", str(home.root), *dry_run)
        assert ran.code != 0
        assert f"{broken}: not a valid SPDX document" in ran.err
    engine = open_store(home)
    try:
        with engine.connect() as connection:
            assert model_components(connection) == {}  # nothing of the plan was applied
    finally:
        engine.dispose()
