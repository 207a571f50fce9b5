"""The service images: multi-stage, non-root, their own package, a health check.

No Docker engine runs here, so the Dockerfiles are read with BuildKit's own
parser (the ``dockerfile`` package) and linted with hadolint; what the
instructions name (console script, port, packages, context files) is checked
against the repository.
"""

import fnmatch
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dockerfile
import pytest
import typer

from tests.deploy.service_settings import (
    ROOT,
    SERVICES,
    console_script,
    port_setting,
    resolve,
)

DOCKERIGNORE = ROOT / ".dockerignore"


def instructions(service: str) -> list[dockerfile.Command]:
    return list(dockerfile.parse_file(str(ROOT / "services" / service / "Dockerfile")))


def final_stage(commands: list[dockerfile.Command]) -> list[dockerfile.Command]:
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return commands[last_from:]


def only(commands: list[dockerfile.Command], cmd: str) -> dockerfile.Command:
    (found,) = [c for c in commands if c.cmd == cmd]
    return found


def project(path: Path) -> dict[str, object]:
    loaded: dict[str, object] = tomllib.loads(path.read_text())
    return loaded


@pytest.mark.parametrize("service", SERVICES)
def test_the_entry_point_is_the_console_script_of_the_service_package(
    service: str,
) -> None:
    commands = instructions(service)
    entrypoint = only(final_stage(commands), "ENTRYPOINT")
    name, target = console_script(service)
    assert entrypoint.json and list(entrypoint.value) == [name]
    assert callable(resolve(target))
    cmd = only(final_stage(commands), "CMD")
    assert cmd.json and list(cmd.value) == ["serve"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_installed_console_script_offers_serve_and_migrate(service: str) -> None:
    name, target = console_script(service)
    assert (Path(sys.executable).parent / name).exists(), f"{name} not installed"
    module = importlib.import_module(target.partition(":")[0])
    (app,) = [v for v in vars(module).values() if isinstance(v, typer.Typer)]
    commands = getattr(typer.main.get_command(app), "commands", {})
    assert {"serve", "migrate"} <= set(commands)


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_is_built_in_stages_and_runs_as_a_non_root_user(
    service: str,
) -> None:
    commands = instructions(service)
    stages = [c for c in commands if c.cmd == "FROM"]
    assert len(stages) >= 2, "a builder stage and a runtime stage"
    assert stages[-1].value[0] == stages[0].value[0], "same Python base"
    base_default = only(commands[: commands.index(stages[0])], "ARG").value[0]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim(-\w+)?", base_default)
    user = only(final_stage(commands), "USER").value[0]
    assert user.split(":")[0] not in ("0", "root")
    copies = [c for c in final_stage(commands) if c.cmd == "COPY"]
    assert copies and all("--from=builder" in c.flags for c in copies), (
        "the runtime stage takes only the built venv"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_builder_installs_only_the_service_and_shared_from_the_lock(
    service: str,
) -> None:
    commands = instructions(service)
    manifest = project(ROOT / "services" / service / "pyproject.toml")
    package = manifest["project"]["name"]  # type: ignore[index]
    workspace = [
        str(d["name"]).split("[")[0]
        for d in tomllib.loads((ROOT / "uv.lock").read_text())["package"]
        if d.get("source", {}).get("editable") or d.get("source", {}).get("virtual")
    ]
    assert package in workspace
    syncs = [c.value[0] for c in commands if c.cmd == "RUN" and "uv sync" in c.value[0]]
    assert syncs and all(
        "--frozen" in s and "--no-dev" in s and f"--package {package}" in s
        for s in syncs
    )
    sources = [c.value[0] for c in commands if c.cmd == "COPY" and not c.flags]
    assert [s for s in sources if s.endswith("/src")] == [
        "shared/src",
        f"services/{service}/src",
    ]
    dependencies = manifest["project"]["dependencies"]  # type: ignore[index]
    own = {d for d in dependencies if d.startswith("authtrail-")}
    assert own == {"authtrail-shared"}, "no service depends on another"


@pytest.mark.parametrize("service", SERVICES)
def test_uv_sees_every_workspace_member_manifest_in_the_builder(service: str) -> None:
    root = project(ROOT / "pyproject.toml")
    members = root["tool"]["uv"]["workspace"]["members"]  # type: ignore[index]
    copied = {
        c.value[0] for c in instructions(service) if c.cmd == "COPY" and not c.flags
    }
    assert {f"{m}/pyproject.toml" for m in members} <= copied
    assert "uv.lock" in {
        v for c in instructions(service) if c.cmd == "COPY" for v in c.value
    }


@pytest.mark.parametrize("service", SERVICES)
def test_port_and_health_check_follow_the_service_settings(service: str) -> None:
    final = final_stage(instructions(service))
    setting = port_setting(service)
    env_name, default = setting.env_names[0], setting.info.default
    assert list(only(final, "EXPOSE").value) == [str(default)]
    env = only(final, "ENV").value
    settings = dict(zip(env[::2], env[1::2], strict=True))
    assert settings[env_name] == str(default)
    assert settings["HOST"] == "0.0.0.0"  # noqa: S104 - reachable in a container
    check = only(final, "HEALTHCHECK")
    assert check.json and check.value[:3] == ("CMD", "python", "-c")
    probe = check.value[3]
    assert "/healthz" in probe and env_name in probe and str(default) in probe


def test_hadolint_finds_nothing_in_the_dockerfiles() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    files = [str(ROOT / "services" / s / "Dockerfile") for s in SERVICES]
    linted = subprocess.run(
        [str(hadolint), "--failure-threshold", "info", *files],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern decides; ``!`` re-includes."""
    ignored = False
    for line in DOCKERIGNORE.read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
            candidates.append(pattern.replace("**/", "*/"))
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, c) for p in prefixes for c in candidates) or any(
            fnmatch.fnmatch(p, c)
            for p in ("/".join(parts[i:]) for i in range(len(parts)))
            for c in candidates
            if c.startswith("*/")
        ):
            ignored = not negated
    return ignored


def test_the_build_context_carries_the_sources_and_nothing_else() -> None:
    needed = {
        v
        for service in SERVICES
        for c in instructions(service)
        if c.cmd == "COPY" and not c.flags
        for v in c.value[:-1]
    }
    needed |= {"shared/src/shared/settings.py", "services/identity/src/identity/cli.py"}
    assert [p for p in sorted(needed) if dockerignored(p)] == []
    kept_out = [
        "data/identity.db",
        ".venv/bin/python",
        "tests/conftest.py",
        "deploy/compose/compose.yaml",
        "docs/deploy.md",
        ".git/HEAD",
        "bench/results/run.json",
        "shared/src/shared/__pycache__/settings.cpython-311.pyc",
        "devstack/src/devstack/cli.py",
    ]
    assert [p for p in kept_out if not dockerignored(p)] == []
