"""Percentiles and medians, the way every table of the report computes them."""

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def rounded(value: float, digits: int = 1) -> float | None:
    """JSON-friendly: NaN becomes null."""
    return None if math.isnan(value) else round(value, digits)
