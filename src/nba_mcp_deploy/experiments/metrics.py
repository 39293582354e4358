"""The metrics an A/B comparison reports, and which direction is better for each."""

from __future__ import annotations

from enum import StrEnum


class Metric(StrEnum):
    ACCURACY = "accuracy"
    MAE = "mae"
    ERROR_RATE = "error_rate"
    LATENCY_MS = "latency_ms"

    @property
    def higher_is_better(self) -> bool:
        return self is Metric.ACCURACY


# The metrics that decide the verdict; the verdict's alpha is split evenly between them
# (Bonferroni), whether or not both can be tested, so the family is fixed before the data.
DECISION_METRICS = ("quality", Metric.ERROR_RATE)
