"""Reading an OpenTelemetry Collector configuration (also Jaeger v2's)."""

from typing import Any

Config = dict[str, Any]
SECTIONS = ("receivers", "processors", "exporters", "connectors", "extensions")


def undefined_components(config: Config) -> list[str]:
    """Components that the service section uses but no section defines."""
    defined = {section: set(config.get(section) or {}) for section in SECTIONS}
    service = config["service"]
    problems = [
        f"extension {e}"
        for e in service.get("extensions", [])
        if e not in defined["extensions"]
    ]
    for name, pipeline in service["pipelines"].items():
        for role in ("receivers", "processors", "exporters"):
            for component in pipeline.get(role, []):
                known = defined[role]
                if role != "processors":
                    known = known | defined["connectors"]
                if component not in known:
                    problems.append(f"{name}: {role[:-1]} {component}")
    return problems


def otlp_ports(config: Config) -> set[int]:
    protocols = config["receivers"]["otlp"]["protocols"]
    return {int(p["endpoint"].rsplit(":", 1)[1]) for p in protocols.values()}


def exporter_targets(config: Config, pipeline: str) -> list[str]:
    return list(config["service"]["pipelines"][pipeline]["exporters"])
