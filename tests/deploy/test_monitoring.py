"""Alerting rules and dashboard name only metrics the system really exports.

Each PromQL expression is parsed (``promql-parser``, the Rust parser used by
GreptimeDB) and every selector checked against docs/observability-metrics.yaml
with the names and labels the collector's Prometheus exporter produces.
"""

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from opentelemetry.instrumentation import asgi
from opentelemetry.semconv.metrics import MetricInstruments

from tests.deploy.manifests import K8S, OVERLAYS, Obj, compose, containers, find
from tests.deploy.metric_catalogue import (
    RESOURCE_LABELS,
    TYPES,
    by_prometheus_name,
    load,
)

ROOT = Path(__file__).resolve().parents[2]
MONITORING = K8S / "monitoring"
RULES = MONITORING / "prometheus-rules.yaml"
DASHBOARD = MONITORING / "dashboards" / "authtrail-auth.json"
COLLECTOR_CONFIGS = [
    ROOT / "deploy" / "compose" / "otel-collector.yaml",
    K8S / "base" / "otel-collector" / "collector.yaml",
]
Rendered = dict[str, list[Obj]]


def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def selectors(expr: str) -> Iterator[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: Any, *_: Any) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(expr), visit)
    yield from found


def grouping_labels(expr: str) -> set[str]:
    labels: set[str] = set()

    def visit(node: Any, *_: Any) -> None:
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier:
            labels.update(node.modifier.labels)
        if isinstance(node, promql_parser.BinaryExpr) and node.modifier:
            matching = node.modifier.matching
            if matching is not None:
                labels.update(matching.labels)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return labels


def unknown_names(expr: str) -> list[str]:
    """Metric names and labels in ``expr`` that the catalogue does not produce."""
    catalogue = by_prometheus_name()
    problems = []
    used_labels: set[str] = set(RESOURCE_LABELS)
    for selector in selectors(expr):
        metric = catalogue.get(selector.name or "")
        if metric is None:
            problems.append(f"metric {selector.name}")
            continue
        used_labels |= metric.labels()
        for matcher in selector.matchers.matchers:
            if matcher.name not in metric.labels():
                problems.append(f"{selector.name} has no label {matcher.name}")
    problems += [f"label {x}" for x in grouping_labels(expr) - used_labels]
    return problems


def test_the_catalogue_lists_each_metric_once_with_a_type_unit_and_attributes() -> None:
    metrics = load()
    names = [m.name for m in metrics]
    assert len(names) == len(set(names))
    for metric in metrics:
        assert metric.type in TYPES, metric.name
        assert metric.prometheus_names(), metric.name


def test_the_catalogue_matches_the_pool_metrics_the_code_creates() -> None:
    source = (ROOT / "shared/src/shared/pool_metrics.py").read_text()
    created = set(re.findall(r'create_\w+\(\s*"([\w.]+)"', source))
    listed = {m.name for m in load() if m.source.endswith("pool_metrics.py")}
    assert created == listed


def test_catalogued_sources_name_their_metrics() -> None:
    for metric in load():
        path = ROOT / metric.source
        if path.is_file():
            assert f'"{metric.name}"' in path.read_text(), metric.name


def test_the_fastapi_instrumentation_records_http_server_duration_in_ms() -> None:
    source = inspect.getsource(asgi)
    assert MetricInstruments.HTTP_SERVER_DURATION == "http.server.duration"
    old = source.index("name=MetricInstruments.HTTP_SERVER_DURATION")
    assert 'unit="ms"' in source[old : old + 200]
    (http,) = [m for m in load() if m.name.startswith("http.server")]
    assert (http.name, http.unit, http.type) == (
        "http.server.duration",
        "ms",
        "histogram",
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_deployment_opts_into_other_http_metric_names(
    rendered: Rendered, overlay: str
) -> None:
    """OTEL_SEMCONV_STABILITY_OPT_IN would rename the HTTP metrics the rules use."""
    variables = {n for c in containers(rendered[overlay]) for n in c.names()}
    variables |= {
        n for s in compose()["services"].values() for n in s.get("environment", {})
    }
    assert "OTEL_SEMCONV_STABILITY_OPT_IN" not in variables


def test_every_alerting_rule_parses_and_names_catalogued_metrics() -> None:
    found = {rule["alert"]: unknown_names(rule["expr"]) for rule in rules()}
    assert found and {alert: p for alert, p in found.items() if p} == {}


def test_every_alert_has_a_unique_name_a_severity_and_a_summary() -> None:
    alerts = [rule["alert"] for rule in rules()]
    assert len(alerts) == len(set(alerts))
    for rule in rules():
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"], rule["alert"]


def metrics_of(expr: str) -> set[str]:
    return {s.name or "" for s in selectors(expr)}


def test_the_rules_watch_slow_queries_pools_lag_outbox_and_5xx() -> None:
    watched = {rule["alert"]: metrics_of(rule["expr"]) for rule in rules()}
    every = set().union(*watched.values())
    assert "traces_span_metrics_duration_seconds_bucket" in every
    assert {"db_client_connection_count", "db_client_connection_max"} <= every
    assert "db_client_connection_wait_time_seconds_bucket" in every
    assert "messaging_kafka_consumer_lag" in every
    assert "outbox_backlog" in every
    assert any(
        '=~"5.."' in rule["expr"] and "http_server_duration" in rule["expr"]
        for rule in rules()
    )


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [
        target["expr"].replace("$__rate_interval", "5m")
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def test_every_dashboard_query_parses_and_names_catalogued_metrics() -> None:
    found = {expr: unknown_names(expr) for expr in dashboard_exprs()}
    assert found and {e: p for e, p in found.items() if p} == {}


def test_the_dashboard_shows_the_auth_figures() -> None:
    used = set().union(*(metrics_of(e) for e in dashboard_exprs()))
    assert {
        "auth_events_total",
        "auth_login_duration_seconds_bucket",
        "auth_password_hash_duration_seconds_bucket",
        "notifier_email_send_duration_seconds_bucket",
    } <= used


@pytest.mark.parametrize("path", COLLECTOR_CONFIGS, ids=lambda p: p.parent.name)
def test_the_collector_exports_the_names_the_catalogue_expects(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    prometheus = config["exporters"]["prometheus"]
    assert prometheus.get("add_metric_suffixes", True) is True
    assert prometheus["resource_to_telemetry_conversion"]["enabled"] is True
    spanmetrics = config["connectors"]["spanmetrics"]
    (derived,) = [m for m in load() if m.name.endswith("span.metrics.duration")]
    assert f"{spanmetrics['namespace']}.duration" == derived.name
    assert spanmetrics["histogram"]["unit"] == derived.unit
    dimensions = {d["name"] for d in spanmetrics["dimensions"]}
    assert dimensions <= set(derived.attributes)


def test_compose_and_kubernetes_run_the_same_collector_pipelines() -> None:
    compose_config, k8s_config = (
        yaml.safe_load(p.read_text()) for p in COLLECTOR_CONFIGS
    )
    assert compose_config == k8s_config


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_collector_service_exposes_the_prometheus_endpoint(
    rendered: Rendered, overlay: str
) -> None:
    config = yaml.safe_load(COLLECTOR_CONFIGS[1].read_text())
    port = int(config["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1])
    service = find(rendered[overlay], "Service", "otel-collector")
    assert port in {p["port"] for p in service["spec"]["ports"]}
