"""docs/observability-metrics.yaml, and the names Prometheus gives its metrics.

The OpenTelemetry Collector's prometheus exporter (add_metric_suffixes on,
the default) turns ``db.client.connection.wait_time`` with unit ``s`` into
``db_client_connection_wait_time_seconds`` with ``_bucket``, ``_sum`` and
``_count`` series, a counter ``auth.events`` into ``auth_events_total``, and
attributes into labels the same way.
"""

from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "docs" / "observability-metrics.yaml"
TYPES = frozenset({"counter", "updowncounter", "gauge", "histogram"})
UNIT_WORDS = {
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "By": "bytes",
    "KiBy": "kibibytes",
    "MiBy": "mebibytes",
}
# Labels every series carries besides its attributes: the resource attributes
# (resource_to_telemetry_conversion), job and instance, and le on buckets.
RESOURCE_LABELS = frozenset(
    {
        "job",
        "instance",
        "le",
        "service_name",
        "service_namespace",
        "service_version",
        "service_instance_id",
        "deployment_environment",
        "deployment_environment_name",
        "k8s_pod_name",
        "k8s_namespace_name",
    }
)


def label_of(attribute: str) -> str:
    return attribute.replace(".", "_")


@dataclass(frozen=True)
class Metric:
    name: str
    type: str
    unit: str
    attributes: tuple[str, ...]
    source: str

    def _base(self) -> str:
        base = self.name.replace(".", "_")
        if self.unit.startswith("{") or self.unit == "":
            return base
        if self.unit == "1":
            return base if self.type == "counter" else f"{base}_ratio"
        word = UNIT_WORDS[self.unit]
        return base if base.endswith(f"_{word}") else f"{base}_{word}"

    def prometheus_names(self) -> frozenset[str]:
        base = self._base()
        if self.type == "counter":
            return frozenset({f"{base}_total"})
        if self.type == "histogram":
            return frozenset({f"{base}_bucket", f"{base}_sum", f"{base}_count"})
        return frozenset({base})

    def labels(self) -> frozenset[str]:
        return frozenset(label_of(a) for a in self.attributes) | RESOURCE_LABELS


def load() -> list[Metric]:
    document = yaml.safe_load(CATALOGUE.read_text())
    return [
        Metric(
            name=entry["name"],
            type=entry["type"],
            unit=str(entry["unit"]),
            attributes=tuple(entry.get("attributes") or ()),
            source=entry["source"],
        )
        for section in ("metrics", "derived")
        for entry in document.get(section) or []
    ]


def by_prometheus_name() -> dict[str, Metric]:
    return {name: metric for metric in load() for name in metric.prometheus_names()}
