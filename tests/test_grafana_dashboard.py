"""examples/grafana-dashboard.json is a Grafana dashboard whose every query names a series a
running hub exports: scraped from `goodthings serve` and read with prometheus_client's parser."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from goodthings.core.config import Home
from goodthings.core.keys import load_operator_token
from hubs import serving
from templates import init_from_template

DASHBOARD = Path(__file__).parent.parent / "examples" / "grafana-dashboard.json"
METRIC = re.compile(r"\bgoodthings_[a-z0-9_]+")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    queries = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    variables = [
        variable["definition"]
        for variable in dashboard["templating"]["list"]
        if variable["type"] == "query"
    ]
    return queries + variables


def test_it_has_the_shape_grafana_imports(dashboard: dict[str, Any]) -> None:
    assert isinstance(dashboard["title"], str) and dashboard["title"]
    assert isinstance(dashboard["uid"], str) and len(dashboard["uid"]) <= 40
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "stat", "gauge", "table", "bargauge"}, panel
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, panel["title"]
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        ref_ids = [target["refId"] for target in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE
            assert METRIC.search(target["expr"]), target["expr"]


def test_every_expression_names_a_series_the_hub_exports(
    dashboard: dict[str, Any], tmp_path: Path
) -> None:
    home = Home(tmp_path / "deployment")
    init_from_template(home, "smart-home")
    token = load_operator_token(home.keys_dir)
    with serving(home.root, "--mqtt-port", "0") as hub:  # MQTT ingest and the jobs run too
        request = urllib.request.Request(  # noqa: S310 (loopback)
            f"{hub.base}/metrics", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 (loopback)
            text = answer.read().decode()
    exported = {
        sample.name for family in text_string_to_metric_families(text) for sample in family.samples
    }
    named = {name for expression in _expressions(dashboard) for name in METRIC.findall(expression)}
    assert named, "the dashboard queries nothing"
    assert named - exported == set(), f"not exported by the hub: {sorted(named - exported)}"
