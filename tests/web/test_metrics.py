"""`GET /metrics`: Prometheus' format behind the operator's token, counting what ingest stored,
dropped and refused, requests by route template, lockouts and the hub's jobs, each hub apart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from console_helpers import add_account, sign_in
from goodthings.core.config import Home
from goodthings.runtime import BackgroundJobs, Hub, Job
from goodthings.security import Lockout, Role
from goodthings.security.credentials import issue_token
from goodthings.security.monitoring.quarantine import quarantine
from goodthings.web.app import create_app
from goodthings.web.deps import hub_of
from held import wait_until
from portal_helpers import BASE
from templates import init_from_template

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _served(home: Home) -> TestClient:
    init_from_template(home, "smart-home")
    return TestClient(create_app(home), base_url=BASE, follow_redirects=False)


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    with _served(home) as client:
        yield client


@pytest.fixture
def hub(client: TestClient) -> Hub:
    return hub_of(client.app)  # type: ignore[arg-type]


def scrape(client: TestClient, hub: Hub) -> Samples:
    """Every sample /metrics gives the operator, read with prometheus_client's own parser."""
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {hub.operator_token}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _send(client: TestClient, token: str, body: str) -> int:
    answer = client.post(
        "/ingest",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/senml+json"},
    )
    return answer.status_code


def _token(hub: Hub, device: str) -> str:
    with hub.engine.begin() as connection:
        return issue_token(connection, device)


def test_metrics_need_the_operator_token(client: TestClient, hub: Hub) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-operator-token"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": wrong.json()["detail"]}
    device = client.get("/metrics", headers={"Authorization": f"Bearer {_token(hub, 'meter-1')}"})
    assert device.status_code == 401
    assert "goodthings_" not in wrong.text + device.text


def test_a_console_session_alone_is_not_enough(client: TestClient, hub: Hub) -> None:
    add_account(hub, "olu", Role.operator)
    sign_in(client, hub, "olu")
    assert client.get("/console/security").status_code == 200  # signed in indeed
    assert client.get("/metrics").status_code == 401


def test_ingest_is_counted_by_outcome_and_reason(client: TestClient, hub: Hub) -> None:
    thermostat, door = _token(hub, "thermostat-1"), _token(hub, "front-door")
    assert _send(client, thermostat, '[{"n":"temperature","v":21.5},{"n":"temperature","v":22}]')
    assert _send(client, door, '[{"n":"open","vb":true}]') == 202  # no consent: dropped
    assert _send(client, door, '[{"n":"no-such-stream","v":1}]') == 403
    assert _send(client, door, '{"not": "a pack"}') == 400
    samples = scrape(client, hub)
    assert samples[("goodthings_ingest_readings_received_total", ())] == 3
    assert samples[("goodthings_ingest_readings_stored_total", ())] == 2
    dropped = "goodthings_ingest_readings_dropped_total"
    assert samples[(dropped, (("reason", "no_consent"),))] == 1
    assert samples[(dropped, (("reason", "retired"),))] == 0  # every reason, from zero
    refused = "goodthings_ingest_packs_refused_total"
    assert samples[(refused, (("reason", "unknown_stream"),))] == 1
    assert samples[(refused, (("reason", "malformed"),))] == 1
    assert samples[("goodthings_ingest_packs_total", ())] == 4
    assert samples[("goodthings_ingest_writer_pending_packs", ())] == 0


def test_requests_are_labelled_by_route_template_not_by_path(client: TestClient, hub: Hub) -> None:
    for device in ("thermostat-1", "meter-1"):
        assert client.get(f"/notice/device/{device}").status_code == 200
    assert client.get("/no/such/page-4711").status_code == 404
    samples = scrape(client, hub)
    template = (("method", "GET"), ("route", "/notice/{kind}/{scope_id:path}"))
    assert samples[("goodthings_http_request_duration_seconds_count", template)] == 2
    answered = (*template[:1], *template[1:], ("status", "200"))
    assert samples[("goodthings_http_responses_total", tuple(sorted(answered)))] == 2
    routes = {dict(labels).get("route") for _, labels in samples}
    assert "(unmatched)" in routes
    assert not any("thermostat-1" in str(route) or "4711" in str(route) for route in routes)


def test_an_unusual_method_does_not_become_a_label(client: TestClient, hub: Hub) -> None:
    client.request("BREW", "/healthz")
    methods = {dict(labels).get("method") for _, labels in scrape(client, hub)}
    assert "BREW" not in methods
    assert "other" in methods


def test_lockouts_are_counted_and_shown_while_they_last(client: TestClient, hub: Hub) -> None:
    hub.lockout = Lockout(threshold=2, base=3600)
    for _ in range(2):
        assert _send(client, "not-a-token", "[]") == 401
    assert _send(client, "not-a-token", "[]") == 429
    samples = scrape(client, hub)
    assert samples[("goodthings_lockouts_total", (("scope", "address"),))] == 1
    assert samples[("goodthings_locked_out", (("scope", "address"),))] == 1
    assert samples[("goodthings_locked_out", (("scope", "device"),))] == 0


def test_openmetrics_when_the_scraper_asks_for_it(client: TestClient, hub: Hub) -> None:
    answer = client.get(
        "/metrics",
        headers={
            "Authorization": f"Bearer {hub.operator_token}",
            "Accept": "application/openmetrics-text; version=1.0.0",
        },
    )
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    names = {family.name for family in openmetrics_families(answer.text)}
    assert "goodthings_ingest_readings_dropped" in names


def test_hubs_in_one_process_keep_their_own_numbers(
    client: TestClient, hub: Hub, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other_home = Home(tmp_path_factory.mktemp("other") / "deployment")
    with _served(other_home) as other:
        other_hub = hub_of(other.app)  # type: ignore[arg-type]
        assert _send(other, _token(other_hub, "thermostat-1"), '[{"n":"temperature","v":1}]')
        assert scrape(other, other_hub)[("goodthings_ingest_readings_received_total", ())] == 1
        assert scrape(client, hub)[("goodthings_ingest_readings_received_total", ())] == 0


class Quarantines(Collector):
    """What another package would add: its own series, read when scraped."""

    def __init__(self) -> None:
        self.now = 0

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("goodthings_test_quarantined", "Devices held", value=self.now)


def test_another_package_adds_its_series(client: TestClient, hub: Hub) -> None:
    quarantines = Quarantines()
    hub.metrics.register(quarantines)
    quarantines.now = 3
    assert scrape(client, hub)[("goodthings_test_quarantined", ())] == 3
    with pytest.raises(ValueError, match="goodthings_test_quarantined"):
        hub.metrics.register(Quarantines())  # one name, one owner
    hub.metrics.unregister(quarantines)
    assert ("goodthings_test_quarantined", ()) not in scrape(client, hub)


def test_background_job_results_are_published_while_the_jobs_run(
    client: TestClient, hub: Hub
) -> None:
    runs: list[int] = []

    def flaky() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("the first night fails")

    key = "goodthings_background_job_runs_total"
    with BackgroundJobs([Job("purge", 0.01, flaky)], hub.metrics):
        wait_until(lambda: len(runs) >= 3, "three runs of the job")
        samples = scrape(client, hub)
        assert samples[(key, (("name", "purge"), ("result", "failed")))] == 1
        assert samples[(key, (("name", "purge"), ("result", "ok")))] >= 1
        last = ("goodthings_background_job_last_success_timestamp_seconds", (("name", "purge"),))
        assert samples[last] > 0
    assert (key, (("name", "purge"), ("result", "ok"))) not in scrape(client, hub)


def test_quarantined_devices_are_on_the_metrics(client: TestClient, hub: Hub) -> None:
    """The abuse monitor's collector is wired into the hub's registry."""
    before = scrape(client, hub)
    assert before[("goodthings_quarantined_devices", ())] == 0
    quarantine(hub.engine, hub.signer, "thermostat-1", reason="a test", actor="operator:test")
    assert scrape(client, hub)[("goodthings_quarantined_devices", ())] == 1
