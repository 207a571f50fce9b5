"""The Kubernetes manifests: valid objects, complete kustomizations, safe pods.

Validation uses the Kubernetes OpenAPI schemas bundled with
kubernetes-validate (strict: an unknown field is an error), on every file
and on what kustomize renders for each overlay.
"""

from pathlib import Path

import kubernetes_validate
import pytest

from tests.deploy.manifests import (
    K8S,
    KUSTOMIZATIONS,
    OVERLAYS,
    WORKLOAD_KINDS,
    Obj,
    containers,
    find,
    kustomization,
    kustomize_build,
    load_all,
    manifest_files,
    patch_files,
    pod_spec,
)

KUBERNETES_VERSION = "1.30.0"
Rendered = dict[str, list[Obj]]


def schema_errors(objects: list[Obj]) -> list[str]:
    errors = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            name = f"{obj['kind']}/{obj['metadata'].get('name')}"
            errors.append(f"{name}: {error.message} at {list(error.path)}")
    return errors


@pytest.mark.parametrize(
    "path", manifest_files(), ids=lambda p: str(p.relative_to(K8S))
)
def test_every_manifest_file_is_valid_against_the_kubernetes_schemas(
    path: Path,
) -> None:
    documents = load_all(path)
    assert all(isinstance(d, dict) and "kind" in d for d in documents)
    assert schema_errors(documents) == []


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_kustomization_lists_files_that_exist(directory: str) -> None:
    root = K8S / directory
    listed = list(kustomization(directory).get("resources", []))
    listed += [p["path"] for p in kustomization(directory).get("patches", [])]
    for generator in kustomization(directory).get("configMapGenerator", []):
        listed += [f.split("=", 1)[-1] for f in generator.get("files", [])]
    assert listed, f"{directory} lists nothing"
    assert [p for p in listed if not (root / p).exists()] == []


def test_every_manifest_file_is_part_of_a_kustomization() -> None:
    used = set(patch_files())
    for directory in KUSTOMIZATIONS:
        root = K8S / directory
        used |= {
            (root / e).resolve() for e in kustomization(directory).get("resources", [])
        }
    assert [p for p in manifest_files() if p.resolve() not in used] == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_patch_of_an_overlay_targets_an_object_of_the_base(overlay: str) -> None:
    base = {(o["kind"], o["metadata"]["name"]) for o in kustomize_build(K8S / "base")}
    root = K8S / "overlays" / overlay
    targets = [
        (doc["kind"], doc["metadata"]["name"])
        for entry in kustomization(f"overlays/{overlay}")["patches"]
        for doc in load_all(root / entry["path"])
    ]
    assert targets
    assert [t for t in targets if t not in base] == []


@pytest.mark.parametrize("directory", ["base", *(f"overlays/{o}" for o in OVERLAYS)])
def test_kustomize_renders_objects_valid_against_the_kubernetes_schemas(
    directory: str,
) -> None:
    objects = kustomize_build(K8S / directory)
    assert len(objects) > 40
    assert schema_errors(objects) == []


def test_the_monitoring_kustomization_ships_the_rules_and_dashboard_as_they_are() -> (
    None
):
    objects = kustomize_build(K8S / "monitoring")
    rules = find(objects, "ConfigMap", "authtrail-prometheus-rules")
    dashboards = find(objects, "ConfigMap", "authtrail-grafana-dashboards")
    monitoring = K8S / "monitoring"
    expected = (monitoring / "prometheus-rules.yaml").read_text()
    assert rules["data"] == {"authtrail.rules.yaml": expected}
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = (monitoring / "dashboards" / "authtrail-auth.json").read_text()
    assert dashboards["data"] == {"authtrail-auth.json": dashboard}


def test_no_secret_is_committed() -> None:
    committed = [
        path
        for path in (K8S.parent).rglob("*.yaml")
        for doc in load_all(path)
        if isinstance(doc, dict) and doc.get("kind") == "Secret"
    ]
    assert committed == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_referenced_secret_is_documented_with_its_keys(
    rendered: Rendered, overlay: str
) -> None:
    docs = (K8S.parents[1] / "docs" / "deploy.md").read_text()
    references = {
        (ref["name"], ref["key"])
        for c in containers(rendered[overlay])
        for entry in c.env.values()
        if (ref := entry.get("valueFrom", {}).get("secretKeyRef"))
    }
    assert references
    undocumented = [
        f"{name}/{key}"
        for name, key in references
        if f"`{name}`" not in docs or f"`{key}`" not in docs
    ]
    assert undocumented == []


def security_problems(workload: Obj) -> list[str]:
    spec = pod_spec(workload)
    pod = spec.get("securityContext", {})
    problems = []
    if not pod.get("runAsNonRoot"):
        problems.append("pod may run as root")
    if pod.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append("no RuntimeDefault seccomp profile")
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("service account token mounted")
    for container in spec["containers"] + spec.get("initContainers", []):
        context = container.get("securityContext", {})
        name = container["name"]
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: privilege escalation allowed")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{name}: capabilities not all dropped")
        if not {"requests", "limits"} <= set(container.get("resources", {})):
            problems.append(f"{name}: no requests and limits")
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_restricted_non_root_with_requests_and_limits(
    rendered: Rendered, overlay: str
) -> None:
    problems = {
        f"{w['kind']}/{w['metadata']['name']}": security_problems(w)
        for w in rendered[overlay]
        if w["kind"] in WORKLOAD_KINDS
    }
    assert {name: p for name, p in problems.items() if p} == {}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_services_have_a_read_only_root_with_writable_tmp_and_data_dir(
    rendered: Rendered, overlay: str
) -> None:
    for name in ("identity", "notifier", "audit"):
        deployment = find(rendered[overlay], "Deployment", name)
        spec = pod_spec(deployment)
        (container,) = spec["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        (container_env,) = [
            c for c in containers(rendered[overlay]) if c.workload is deployment
        ]
        data_dir = container_env.literal("DATA_DIR")
        empty_dirs = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
        assert {mounts["/tmp"], mounts[str(data_dir)]} <= empty_dirs


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_config_map_and_volume_a_pod_names_is_deployed(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    config_maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    missing = [
        f"{w['metadata']['name']}: {volume['configMap']['name']}"
        for w in objects
        if w["kind"] in WORKLOAD_KINDS
        for volume in pod_spec(w).get("volumes", [])
        if "configMap" in volume and volume["configMap"]["name"] not in config_maps
    ]
    assert missing == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_selects_pods_and_targets_a_named_port_they_have(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    workloads = [o for o in objects if o["kind"] in WORKLOAD_KINDS]
    for service in (o for o in objects if o["kind"] == "Service"):
        selector = service["spec"]["selector"].items()
        pods = [
            w
            for w in workloads
            if selector <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert pods, f"Service {service['metadata']['name']} selects no pod"
        port_names = {
            p.get("name")
            for w in pods
            for c in pod_spec(w)["containers"]
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            if isinstance(target, str):
                assert target in port_names, service["metadata"]["name"]


def selected(policy: Obj, labels: dict[str, str]) -> bool:
    selector = policy["spec"]["podSelector"]
    return label_selector_matches(selector, labels)


def label_selector_matches(selector: Obj, labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        if expression["operator"] == "In" and value not in expression["values"]:
            return False
        if expression["operator"] == "NotIn" and value in expression["values"]:
            return False
    return True


def allowed_egress(objects: list[Obj], app: str) -> set[tuple[str, int]]:
    """(destination, port) pairs the policies open for the pods of ``app``.

    A destination is a pod's ``app.kubernetes.io/name``, ``dns`` for the
    cluster DNS, or ``cidr:<block>`` for addresses outside the cluster.
    """
    labels = {"app.kubernetes.io/name": app}
    apps = {
        w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        for w in objects
        if w["kind"] in WORKLOAD_KINDS
    }
    allowed: set[tuple[str, int]] = set()
    for policy in (o for o in objects if o["kind"] == "NetworkPolicy"):
        if not selected(policy, labels):
            continue
        for rule in policy["spec"].get("egress", []):
            ports = [p["port"] for p in rule.get("ports", [])]
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    allowed |= {(f"cidr:{peer['ipBlock']['cidr']}", p) for p in ports}
                elif "namespaceSelector" in peer:
                    allowed |= {("dns", p) for p in ports}
                else:
                    allowed |= {
                        (other, p)
                        for other in apps
                        if label_selector_matches(
                            peer["podSelector"], {"app.kubernetes.io/name": other}
                        )
                        for p in ports
                    }
    return allowed


DNS = {("dns", 53)}
TELEMETRY = {("otel-collector", 4317), ("otel-collector", 4318)}
STORES = {("postgres", 5432), ("kafka", 9092)}
SMTP_OUT = {("cidr:0.0.0.0/0", port) for port in (25, 465, 587)}
WEBHOOK_OUT = {("cidr:0.0.0.0/0", 443)}


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        ("identity", DNS | STORES | TELEMETRY),
        ("notifier", DNS | STORES | TELEMETRY | SMTP_OUT),
        ("audit", DNS | STORES | TELEMETRY | WEBHOOK_OUT),
        ("identity-migrate", DNS | {("postgres", 5432)}),
        ("kafka-topics", DNS | {("kafka", 9092)}),
        ("otel-collector", DNS | {("jaeger", 4317)}),
    ],
)
def test_each_component_reaches_only_what_it_needs_in_production(
    rendered: Rendered, app: str, expected: set[tuple[str, int]]
) -> None:
    objects = rendered["prod"]
    default_deny = find(objects, "NetworkPolicy", "default-deny")
    assert default_deny["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    assert allowed_egress(objects, app) == expected


def test_in_dev_the_notifier_mails_mailpit_inside_the_namespace(
    rendered: Rendered,
) -> None:
    assert allowed_egress(rendered["dev"], "notifier") == (
        DNS | STORES | TELEMETRY | {("mailpit", 1025)}
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_selected_by_a_policy_beyond_default_deny(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    policies = [
        o
        for o in objects
        if o["kind"] == "NetworkPolicy"
        and o["metadata"]["name"] not in ("default-deny", "allow-dns")
    ]
    unselected = [
        w["metadata"]["name"]
        for w in objects
        if w["kind"] in WORKLOAD_KINDS
        and not any(
            selected(p, w["spec"]["template"]["metadata"]["labels"]) for p in policies
        )
    ]
    assert unselected == []


def test_production_topics_have_12_partitions_replication_3_min_isr_2(
    rendered: Rendered,
) -> None:
    topics = find(rendered["prod"], "ConfigMap", "kafka-topics")["data"]
    assert topics["TOPIC_PARTITIONS"] == "12"
    assert topics["TOPIC_REPLICATION_FACTOR"] == "3"
    assert topics["TOPIC_MIN_INSYNC_REPLICAS"] == "2"
    kafka = find(rendered["prod"], "StatefulSet", "kafka")
    assert kafka["spec"]["replicas"] == 3


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topics_job_and_services_agree_on_topics_and_their_shape(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    topics = find(objects, "ConfigMap", "kafka-topics")["data"]
    common = find(objects, "ConfigMap", "authtrail-common")["data"]
    shared_keys = {k for k in topics if k in common}
    assert shared_keys >= {"TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR"}
    assert {k: topics[k] for k in shared_keys} == {k: common[k] for k in shared_keys}
    kafka = find(objects, "StatefulSet", "kafka")
    brokers = kafka["spec"]["replicas"]
    assert int(topics["TOPIC_REPLICATION_FACTOR"]) <= brokers
    assert int(topics["TOPIC_MIN_INSYNC_REPLICAS"]) <= int(
        topics["TOPIC_REPLICATION_FACTOR"]
    )
    env = {e["name"]: e.get("value") for e in pod_spec(kafka)["containers"][0]["env"]}
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert voters == [f"{i}@kafka-{i}.kafka-headless:9093" for i in range(brokers)], (
        "one controller voter per broker pod"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_identity_scales_by_hpa_and_every_deployment_has_a_disruption_budget(
    rendered: Rendered, overlay: str
) -> None:
    objects = rendered[overlay]
    hpa = find(objects, "HorizontalPodAutoscaler", "identity")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "identity",
    }
    identity = find(objects, "Deployment", "identity")
    assert "replicas" not in identity["spec"], "an apply would undo the autoscaler"
    budgets = [o for o in objects if o["kind"] == "PodDisruptionBudget"]
    for name in ("identity", "notifier", "audit", "kafka"):
        labels = {"app.kubernetes.io/name": name}
        assert any(
            label_selector_matches(b["spec"]["selector"], labels) for b in budgets
        ), name


def test_the_topic_script_is_the_same_for_compose_and_kubernetes() -> None:
    compose_copy = K8S.parent / "compose" / "kafka" / "create-topics.sh"
    kubernetes_copy = K8S / "base" / "kafka" / "create-topics.sh"
    assert compose_copy.read_text() == kubernetes_copy.read_text()
