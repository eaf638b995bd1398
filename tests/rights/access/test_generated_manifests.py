"""Property: over generated manifests, consents and queries, an application never receives a
reading outside its purpose or a person's consent, nor finer than the allowed minimisation."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goodthings.core.config import Home
from goodthings.core.manifest import load_manifest_text
from goodthings.deployment.apply import apply_manifest
from goodthings.deployment.directory import example_text
from goodthings.ingest.batch import Incoming
from goodthings.rights.access import AccessError, Grant, ReadingsQuery, read_readings
from goodthings.rights.consent import records as consent
from goodthings.runtime.hub import Hub
from templates import init_from_template

HOUR = 3600.0
START = 1_790_002_800.0
VALUES = [(START + 60, 432.0), (START + 120, 461.0), (START + HOUR + 60, 1210.0)]
RANK = {"exact": 0, "coarse": 1, "aggregate": 2, "off": 3}
POWER_BLOCK = """        retention: P13M
        minimisation: [exact, coarse, aggregate, off]
        coarse_step: 100
        aggregate_window: PT1H"""


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, object]:
    levels = draw(
        st.lists(st.sampled_from(["exact", "coarse", "aggregate"]), min_size=1, unique=True)
    )
    levels = [*sorted(levels, key=RANK.__getitem__), "off"]
    choices = st.one_of(st.none(), st.sampled_from(levels))
    return {
        "basis": draw(st.sampled_from(["Consent", "Contract", "LegitimateInterest"])),
        "levels": levels,
        "step": draw(st.sampled_from([10, 100, 1000])),
        "alex": draw(choices),
        "sam": draw(choices),
        "purpose": draw(
            st.sampled_from(
                ["OptimisationForConsumer", "ResearchAndDevelopment", "PaymentManagement"]
            )
        ),
    }


def _manifest(case: dict[str, object]) -> str:
    text = example_text("smart-home")
    block = (
        f"        retention: P13M\n        minimisation: [{', '.join(case['levels'])}]\n"  # type: ignore[arg-type]
        f"        coarse_step: {case['step']}\n        aggregate_window: PT1H"
    )
    assert POWER_BLOCK in text
    text = text.replace(POWER_BLOCK, block)
    old = (
        "          - purpose: OptimisationForConsumer\n            legal_basis: Consent\n"
        "            how:\n              en: The energy dashboard"
    )
    assert old in text
    return text.replace(old, old.replace("Consent", str(case["basis"])))


def _expected_level(case: dict[str, object]) -> str | None:
    levels = case["levels"]
    finest = levels[0]  # type: ignore[index]
    if case["basis"] != "Consent":
        return str(finest)
    chosen = [case["alex"], case["sam"]]
    if any(choice is None or choice == "off" for choice in chosen):
        return None
    return max((str(c) for c in chosen), key=RANK.__getitem__)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=deployments())
def test_reads_never_exceed_purpose_consent_or_minimisation(case: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Home(Path(tmp) / "deployment")
        init_from_template(home, "smart-home")
        hub = Hub.open(home)
        try:
            apply_manifest(hub.engine, load_manifest_text(_manifest(case)))
            hub.pipeline.refresh(force=True)
            records = [{"n": "power", "t": moment, "v": value} for moment, value in VALUES]
            hub.pipeline.ingest([Incoming("meter-1", json.dumps(records).encode(), time.time())])
            if case["basis"] == "Consent":
                for subject in ("alex", "sam"):
                    level = case[subject]
                    if level is not None:
                        change = consent.ConsentChange(
                            subject, "power", "OptimisationForConsumer", level=str(level)
                        )
                        consent.give(hub.engine, hub.signer, change)
            grant = Grant(
                "energy-dashboard",
                ("OptimisationForConsumer", "ResearchAndDevelopment", "PaymentManagement"),
                time.time() + 60,
            )
            query = ReadingsQuery("power", str(case["purpose"]))
            if case["purpose"] != "OptimisationForConsumer":
                # Not a purpose the application declares: refused, whatever the token says.
                with pytest.raises(AccessError):
                    read_readings(hub.engine, hub.keyring, hub.signer, grant, query)
                return
            readings = read_readings(hub.engine, hub.keyring, hub.signer, grant, query).readings
        finally:
            hub.close()
    expected = _expected_level(case)
    if expected is None:
        assert readings == ()
        return
    assert readings and {r.level for r in readings} == {expected}
    step = float(case["step"])  # type: ignore[arg-type]
    if expected == "coarse":
        assert all(float(r.value) % step == 0 for r in readings)  # type: ignore[arg-type]
    if expected == "aggregate":
        assert all(r.time % HOUR == 0 for r in readings) and len(readings) <= 2
    if expected == "exact":
        assert [r.value for r in readings] == [value for _, value in VALUES]
