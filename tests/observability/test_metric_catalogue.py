"""docs/observability-metrics.yaml is what the services really export.

Every metric a service exported during the journey is in the catalogue with
its kind, unit and attributes, and every catalogued metric was exported.
"""

from pathlib import Path

import yaml

from tests.observability.conftest import Observed

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "observability-metrics.yaml"


def catalogue() -> dict[str, dict[str, object]]:
    document = yaml.safe_load(CATALOGUE.read_text())
    return {entry["name"]: entry for entry in document["metrics"]}


def test_every_exported_metric_is_catalogued_with_its_kind_unit_and_attributes(
    observed: Observed,
) -> None:
    listed = catalogue()
    streams = observed.receiver.metric_streams()

    unlisted = sorted({s.name for s in streams} - set(listed))
    assert unlisted == []
    mismatched = [
        (s.service, s.name, s.kind, s.unit, sorted(s.attribute_keys))
        for s in streams
        if (s.kind, s.unit) != (listed[s.name]["type"], str(listed[s.name]["unit"]))
        or not s.attribute_keys <= set(listed[s.name]["attributes"] or ())  # type: ignore[call-overload]
    ]
    assert mismatched == []


def test_every_catalogued_metric_was_exported(observed: Observed) -> None:
    exported = {s.name for s in observed.receiver.metric_streams()}

    assert sorted(set(catalogue()) - exported) == []
