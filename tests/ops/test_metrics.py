"""GET /metrics: Prometheus text with requests, latency, pool use, throttled and faulted counts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine
from starlette.testclient import TestClient

from graphlang.app import create_app
from graphlang.config import Settings
from graphlang.ops.metrics import LATENCY_BUCKETS, Metrics
from graphlang.services import create_services
from tests.factories import Tokens

LANGUAGES = "/beta/me/profile/languages"


def samples(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parsed(response.text)


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def pooled_client(shared_settings: Settings) -> Iterator[TestClient]:
    services = create_services(shared_settings, auto_migrate=True)
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def test_requests_are_counted_by_route_template_method_and_status(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    created = client.post(LANGUAGES, headers=headers, json={"tag": "fr-FR"}).json()
    client.get(f"{LANGUAGES}/{created['id']}", headers=headers)
    client.get(f"{LANGUAGES}/{created['id']}", headers=headers)
    client.get(f"{LANGUAGES}/00000000-0000-0000-0000-000000000000", headers=headers)
    client.get(LANGUAGES)

    found = samples(client)
    item = f"{LANGUAGES}/{{language}}"
    assert value(found, "graphlang_http_requests_total", route=LANGUAGES, method="POST", status="201") == 1
    assert value(found, "graphlang_http_requests_total", route=item, method="GET", status="200") == 2
    assert value(found, "graphlang_http_requests_total", route=item, method="GET", status="404") == 1
    assert value(found, "graphlang_http_requests_total", route=LANGUAGES, method="GET", status="401") == 1


def test_latency_is_a_histogram_per_route_template_and_method(client: TestClient, tokens: Tokens) -> None:
    headers = tokens.headers()
    for _ in range(3):
        client.get(LANGUAGES, headers=headers)

    found = samples(client)
    assert value(found, "graphlang_http_request_duration_seconds_count", route=LANGUAGES, method="GET") == 3
    assert value(found, "graphlang_http_request_duration_seconds_bucket", route=LANGUAGES, method="GET",
                 le="+Inf") == 3
    assert value(found, "graphlang_http_request_duration_seconds_sum", route=LANGUAGES, method="GET") > 0


def test_unknown_paths_and_methods_keep_labels_bounded(client: TestClient, tokens: Tokens) -> None:
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    client.request("BREW", LANGUAGES, headers=tokens.headers())

    found = samples(client)
    assert value(found, "graphlang_http_requests_total", route="unmatched", method="GET", status="404") == 2
    assert value(found, "graphlang_http_requests_total", route=LANGUAGES, method="other", status="405") == 1


def test_database_pool_use_is_reported(pooled_client: TestClient) -> None:
    tokens = Tokens(pooled_client.app.services)  # type: ignore[attr-defined]
    assert pooled_client.get(LANGUAGES, headers=tokens.headers()).status_code == 200

    found = samples(pooled_client)
    assert value(found, "graphlang_db_pool_size") >= 1
    assert value(found, "graphlang_db_pool_connections") >= 1
    assert value(found, "graphlang_db_pool_checked_out") == 0  # nothing is in flight during the scrape


def test_metrics_can_be_turned_off(settings: Settings) -> None:
    services = create_services(replace(settings, metrics=False), auto_migrate=True)
    with TestClient(create_app(services.settings, services)) as client:
        assert client.get("/metrics").status_code == 404


def test_throttled_requests_are_counted(settings: Settings) -> None:
    services = create_services(replace(settings, throttle=True, throttle_user_limit=1), auto_migrate=True)
    headers = Tokens(services).headers()
    with TestClient(create_app(services.settings, services)) as client:
        assert client.get(LANGUAGES, headers=headers).status_code == 200
        assert client.get(LANGUAGES, headers=headers).status_code == 429

        found = samples(client)
    assert value(found, "graphlang_throttled_requests_total", route=LANGUAGES) == 1
    assert value(found, "graphlang_http_requests_total", route=LANGUAGES, method="GET", status="429") == 1


def test_requests_answered_by_an_injected_fault_are_counted(client: TestClient, tokens: Tokens,
                                                            settings: Settings) -> None:
    rule = {"method": "GET", "path": LANGUAGES, "status": 503, "count": 2}
    added = client.post("/_graphlang/faults", json=rule, headers={"Authorization": f"Bearer {settings.admin_token}"})
    assert added.status_code == 201, added.text
    for _ in range(3):
        client.get(LANGUAGES, headers=tokens.headers())

    found = samples(client)
    assert value(found, "graphlang_injected_faults_total", route=LANGUAGES, status="503") == 2
    assert value(found, "graphlang_injected_faults_total", route=LANGUAGES, status="200") == 0


def test_tallied_latencies_add_up_as_one_observe_each_would() -> None:
    # Requests are tallied and added to the histogram once per event-loop turn; the result must be
    # what prometheus-client's own observe() makes of the same latencies, bucket by bucket.
    latencies = [0.0004, 0.001, 0.001, 0.003, 0.0251, 0.2, 7.0, 42.0]
    metrics = Metrics(create_engine("sqlite://"))
    ctx = SimpleNamespace(route=LANGUAGES, method="GET", notes={})
    metrics.observe([(ctx, SimpleNamespace(status_code=200), seconds)  # type: ignore[misc]
                     for seconds in latencies[:3]])
    for seconds in latencies[3:]:  # some in a turn of their own
        metrics.observe([(ctx, SimpleNamespace(status_code=200), seconds)])  # type: ignore[list-item]
    reference = CollectorRegistry()
    histogram = Histogram("graphlang_http_request_duration_seconds", "", ("route", "method"),
                          buckets=LATENCY_BUCKETS, registry=reference)
    for seconds in latencies:
        histogram.labels(LANGUAGES, "GET").observe(seconds)

    tallied = parsed(metrics.exposition().decode())
    observed = parsed(generate_latest(reference).decode())
    assert {key: value for key, value in tallied.items() if key[0].startswith("graphlang_http_request_duration")
            and not key[0].endswith("_created")} == {
        key: value for key, value in observed.items() if not key[0].endswith("_created")}
    assert value(tallied, "graphlang_http_requests_total", route=LANGUAGES, method="GET", status="200") == 8


def parsed(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
