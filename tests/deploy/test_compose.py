"""The Compose stack: a valid file whose pieces start in the right order.

There is no Docker engine here: the file is checked against the Compose
specification (the ``compose-spec`` parser) and its references are followed
by hand: services, volumes, files, the collector's and Jaeger's ports.
"""

import os
from pathlib import Path, PurePosixPath
from typing import Any
from unittest import mock
from urllib.parse import SplitResult, urlsplit

import compose_spec
import dockerfile
import yaml

from tests.deploy.collector_config import (
    exporter_targets,
    otlp_ports,
    undefined_components,
)
from tests.deploy.manifests import COMPOSE_FILE, compose
from tests.deploy.service_settings import ROOT, SERVICES, service_settings_class

HERE = COMPOSE_FILE.parent


def services() -> dict[str, Any]:
    found: dict[str, Any] = compose()["services"]
    return found


def depends_on(name: str) -> dict[str, str]:
    entries = services()[name].get("depends_on", {})
    if isinstance(entries, list):
        return dict.fromkeys(entries, "service_started")
    return {k: v.get("condition", "service_started") for k, v in entries.items()}


def environment(name: str) -> dict[str, str]:
    return {k: str(v) for k, v in services()[name].get("environment", {}).items()}


def test_the_compose_file_follows_the_compose_specification() -> None:
    parsed = compose_spec.PyOptions(apply_merge=True).from_yaml(
        COMPOSE_FILE.read_text()
    )
    parsed.validate()
    assert set(parsed.service_names()) == set(services())


def test_every_dependency_names_a_service_and_every_volume_is_declared() -> None:
    declared = set(compose().get("volumes") or {})
    for name, spec in services().items():
        assert set(depends_on(name)) <= set(services()), name
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (HERE / source).exists(), f"{name}: {source} is missing"
            else:
                assert source in declared, f"{name}: volume {source} undeclared"
        build = spec.get("build")
        if build:
            assert (HERE / build["context"]).resolve() == ROOT
            assert (ROOT / build["dockerfile"]).exists()


def test_topics_and_migrations_run_first_and_once() -> None:
    specs = services()
    assert depends_on("kafka-topics") == {"kafka": "service_healthy"}
    assert specs["kafka-topics"]["restart"] == "no"
    assert "healthcheck" in specs["kafka"] and "healthcheck" in specs["postgres"]
    for service in SERVICES:
        migrate = f"{service}-migrate"
        assert specs[migrate]["command"] == ["migrate"]
        assert specs[migrate]["restart"] == "no"
        assert depends_on(migrate)["postgres"] == "service_healthy"
        assert depends_on(service)[migrate] == "service_completed_successfully"
        assert depends_on(service)["kafka-topics"] == "service_completed_successfully"


def test_each_service_gets_its_own_database_created_by_the_init_script() -> None:
    script = (HERE / "postgres" / "init-databases.sh").read_text()
    (loop,) = [line for line in script.splitlines() if line.startswith("for service")]
    created = set(loop.split(" in ", 1)[1].rstrip("; do").split())
    urls: dict[str, SplitResult] = {}
    for service in SERVICES:
        env = environment(f"{service}-migrate")
        (value,) = [v for k, v in env.items() if k.endswith("_DATABASE_URL")]
        urls[service] = urlsplit(value)
    assert {u.path.strip("/") for u in urls.values()} == created == set(SERVICES)
    for service, url in urls.items():
        assert url.scheme == "postgresql+asyncpg"
        assert (url.hostname, url.port) == ("postgres", 5432)
        assert url.username == url.password == url.path.strip("/") == service


def workdir(service: str) -> PurePosixPath:
    commands = dockerfile.parse_file(str(ROOT / "services" / service / "Dockerfile"))
    return PurePosixPath([c for c in commands if c.cmd == "WORKDIR"][-1].value[0])


def sealing_key_volume(service: str) -> str:
    """The named volume that holds the file this service reads the key from."""
    with mock.patch.dict(os.environ, environment(service), clear=True):
        settings = service_settings_class(service)(_env_file=None)
    key_file = PurePosixPath(str(settings.token_sealing_key_file))  # type: ignore[attr-defined]
    if not key_file.is_absolute():
        key_file = workdir(service) / key_file
    mounts = [v.split(":")[:2] for v in services()[service].get("volumes", [])]
    holders = [
        (source, target)
        for source, target in mounts
        if key_file.is_relative_to(PurePosixPath(target))
    ]
    source, _ = max(holders, key=lambda m: len(m[1]))
    return str(source)


def test_identity_and_notifier_share_the_sealing_key_and_nothing_else_does() -> None:
    assert sealing_key_volume("identity") == sealing_key_volume("notifier")
    shared = sealing_key_volume("identity")
    users = [
        n
        for n, s in services().items()
        if any(v.split(":")[0] == shared for v in s.get("volumes", []))
    ]
    assert sorted(users) == ["identity", "notifier"]


def load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def test_telemetry_flows_from_the_services_to_the_collector_to_jaeger() -> None:
    collector = load(HERE / "otel-collector.yaml")
    jaeger = load(HERE / "jaeger.yaml")
    assert undefined_components(collector) == []
    assert undefined_components(jaeger) == []
    for service in SERVICES:
        endpoint = urlsplit(environment(service)["OTEL_EXPORTER_OTLP_ENDPOINT"])
        assert endpoint.hostname == "otel-collector"
        assert endpoint.port in otlp_ports(collector)
    assert "otlp/jaeger" in exporter_targets(collector, "traces")
    host, port = collector["exporters"]["otlp/jaeger"]["endpoint"].split(":")
    assert host in services() and int(port) in otlp_ports(jaeger)
    assert "prometheus" in exporter_targets(collector, "metrics")


def test_prometheus_scrapes_the_collector_and_loads_the_alerting_rules() -> None:
    prometheus = load(HERE / "prometheus.yaml")
    collector = load(HERE / "otel-collector.yaml")
    (job,) = prometheus["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    port = collector["exporters"]["prometheus"]["endpoint"].rsplit(":", 1)[1]
    assert target == f"otel-collector:{port}"
    mounts = dict(v.split(":")[:2] for v in services()["prometheus"]["volumes"])
    rules = (ROOT / "deploy/k8s/monitoring/prometheus-rules.yaml").resolve()
    assert any((HERE / src).resolve() == rules for src in mounts)


def test_grafana_shows_the_dashboard_on_the_stack_prometheus() -> None:
    (source,) = load(HERE / "grafana" / "datasources.yaml")["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    url = urlsplit(source["url"])
    assert url.hostname == "prometheus" and url.hostname in services()
    (provider,) = load(HERE / "grafana" / "dashboards.yaml")["providers"]
    mounts = dict(v.split(":")[:2] for v in services()["grafana"]["volumes"])
    (folder,) = [
        src for src, dst in mounts.items() if dst == provider["options"]["path"]
    ]
    assert (HERE / folder / "authtrail-auth.json").is_file()
