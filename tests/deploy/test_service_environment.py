"""Each deployment gives a service exactly the variables and ports it reads.

Both sides are read: the variables from the rendered overlays and the
Compose file, the settings from the services' own settings classes.
"""

import os
from typing import Any
from unittest import mock

import pytest
from pydantic import ValidationError

from tests.deploy.manifests import (
    OVERLAYS,
    Container,
    Obj,
    compose,
    containers,
    find,
    service_of_image,
)
from tests.deploy.service_settings import (
    OTEL_STANDARD_VARIABLES,
    SERVICES,
    port_setting,
    required_settings,
    settings_by_env,
    settings_classes,
)

Rendered = dict[str, list[Obj]]
# In a container the service must listen beyond loopback to be reachable.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def service_containers(objects: list[Obj]) -> list[tuple[str, Container]]:
    found = []
    for container in containers(objects):
        service = service_of_image(container.image_repository, SERVICES)
        if service:
            found.append((service, container))
    return found


def unread_variables(service: str, names: set[str]) -> set[str]:
    known = settings_by_env(service)
    return {n for n in names if n not in known and n not in OTEL_STANDARD_VARIABLES}


def missing_required(service: str, names: set[str]) -> list[str]:
    return [
        f"{s.owner}.{s.field} ({' or '.join(s.env_names)})"
        for s in required_settings(service)
        if not names & set(s.env_names)
    ]


def invalid_values(service: str, values: dict[str, str]) -> list[str]:
    """What each settings class says of exactly this environment.

    Values that come from Secrets are unknown here and left out, so a missing
    field is not reported (the required-settings tests cover that).
    """
    problems = []
    with mock.patch.dict(os.environ, values, clear=True):
        for cls in settings_classes(service):
            try:
                cls(_env_file=None)
            except ValidationError as error:
                problems += [
                    f"{cls.__name__} {'.'.join(map(str, e['loc']))}: {e['msg']}"
                    for e in error.errors()
                    if e["type"] != "missing"
                ]
    return problems


def compose_services() -> list[tuple[str, str, dict[str, str]]]:
    """(compose service, authtrail service, environment) of the service images."""
    found = []
    for name, spec in compose()["services"].items():
        dockerfile = spec.get("build", {}).get("dockerfile", "")
        service = service_of_image(str(spec.get("image", "")).split(":")[0], SERVICES)
        if service or dockerfile.startswith("services/"):
            assert service, f"compose service {name} builds {dockerfile} untagged"
            assert dockerfile == f"services/{service}/Dockerfile", name
            environment: Any = spec.get("environment", {})
            if isinstance(environment, list):
                environment = dict(item.split("=", 1) for item in environment)
            found.append((name, service, {k: str(v) for k, v in environment.items()}))
    return found


# Kubernetes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_runs_as_a_deployment_and_a_migration_job(
    rendered: Rendered, overlay: str
) -> None:
    kinds = {
        (service, c.workload["kind"], tuple(c.spec.get("args", [])))
        for service, c in service_containers(rendered[overlay])
    }
    for service in SERVICES:
        assert (service, "Deployment", ("serve",)) in kinds
        assert (service, "Job", ("migrate",)) in kinds


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_variable_a_manifest_sets_is_a_setting_the_service_reads(
    rendered: Rendered, overlay: str
) -> None:
    unread = {
        c.where: unread_variables(service, c.names() - c.helpers())
        for service, c in service_containers(rendered[overlay])
    }
    assert {where: names for where, names in unread.items() if names} == {}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_required_setting_is_set_by_the_manifests(
    rendered: Rendered, overlay: str
) -> None:
    missing = {
        c.where: missing_required(service, c.names())
        for service, c in service_containers(rendered[overlay])
    }
    assert {where: m for where, m in missing.items() if m} == {}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_value_a_manifest_sets_is_valid_for_its_setting(
    rendered: Rendered, overlay: str
) -> None:
    invalid = {}
    for service, c in service_containers(rendered[overlay]):
        values = {n: v for n in c.names() if (v := c.literal(n)) is not None}
        invalid[c.where] = invalid_values(service, values)
    assert {where: errors for where, errors in invalid.items() if errors} == {}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secret_settings_come_from_secrets_not_from_config(
    rendered: Rendered, overlay: str
) -> None:
    exposed = []
    for service, c in service_containers(rendered[overlay]):
        known = settings_by_env(service)
        for name in c.names():
            secret = any(
                s.secret or s.field.endswith("database_url")
                for s in known.get(name, [])
            )
            from_secret = "secretKeyRef" in c.env.get(name, {}).get("valueFrom", {})
            if secret and not from_secret:
                exposed.append(f"{c.where}: {name}")
    assert exposed == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ports_of_container_service_and_probes_are_the_port_the_service_binds(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    for service, c in service_containers(objects):
        if c.workload["kind"] != "Deployment":
            continue
        setting = port_setting(service)
        env_name = setting.env_names[0]
        port = int(c.literal(env_name) or setting.info.default)
        assert c.literal("HOST") == ALL_INTERFACES, f"{c.where} binds loopback only"
        (http,) = [p for p in c.spec["ports"] if p["name"] == "http"]
        assert http["containerPort"] == port, c.where
        assert c.spec["readinessProbe"]["httpGet"] == {
            "path": "/readyz",
            "port": "http",
        }
        assert c.spec["livenessProbe"]["httpGet"] == {
            "path": "/healthz",
            "port": "http",
        }
        k8s_service = find(objects, "Service", service)
        assert k8s_service["spec"]["selector"] == {"app.kubernetes.io/name": service}
        assert [p["targetPort"] for p in k8s_service["spec"]["ports"]] == ["http"]
        assert [p["port"] for p in k8s_service["spec"]["ports"]] == [port]


# Compose


def test_compose_runs_each_service_and_its_migration() -> None:
    commands = {
        (service, tuple(spec_command(name))) for name, service, _ in compose_services()
    }
    for service in SERVICES:
        assert (service, ()) in commands, f"{service} serves (the image's CMD)"
        assert (service, ("migrate",)) in commands


def spec_command(compose_service: str) -> list[str]:
    command: list[str] = compose()["services"][compose_service].get("command", [])
    return command


def test_every_variable_compose_sets_is_a_setting_the_service_reads() -> None:
    unread = {
        name: unread_variables(service, set(env))
        for name, service, env in compose_services()
    }
    assert {name: names for name, names in unread.items() if names} == {}


def test_every_required_setting_is_set_by_compose() -> None:
    missing = {
        name: missing_required(service, set(env))
        for name, service, env in compose_services()
    }
    assert {name: m for name, m in missing.items() if m} == {}


def test_every_value_compose_sets_is_valid_for_its_setting() -> None:
    invalid = {
        name: invalid_values(service, env) for name, service, env in compose_services()
    }
    assert {name: errors for name, errors in invalid.items() if errors} == {}


def test_compose_publishes_the_port_each_service_binds() -> None:
    specs = compose()["services"]
    for name, service, env in compose_services():
        if spec_command(name):
            continue  # one-shot migration: no port
        setting = port_setting(service)
        env_name = setting.env_names[0]
        port = int(env.get(env_name, setting.info.default))
        assert env.get("HOST") == ALL_INTERFACES, f"{name} binds loopback only"
        published = [str(p).split(":")[-1] for p in specs[name]["ports"]]
        assert published == [str(port)], name


def test_compose_and_kubernetes_turn_on_the_idempotent_producer_for_apache_kafka(
    rendered: Rendered,
) -> None:
    for name, _, env in compose_services():
        assert env.get("KAFKA_ENABLE_IDEMPOTENCE") == "true", name
    for overlay in OVERLAYS:
        for _, c in service_containers(rendered[overlay]):
            if c.workload["kind"] == "Deployment":
                assert c.literal("KAFKA_ENABLE_IDEMPOTENCE") == "true", c.where
