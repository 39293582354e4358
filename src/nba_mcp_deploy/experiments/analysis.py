"""A/B analysis as pure functions over per-request columns: summaries, tests, power, verdict.

Input: one `VariantSample` per variant (per request: its unit, latency, failure; per known
outcome: its unit and value, 1/0 correctness for a classifier or absolute error for a
regressor). Every test compares one value per unit (see `units.py`, `comparison.py`).
Latency is measured on successful requests: a failure's time is not service time, and the
failure already counts in the error rate. The verdict (`verdict.py`) is decided by quality and
error rate at alpha / 2 each; latency is reported but never decides. The sample size says how
many units with outcomes each variant needs to detect a relative change of
`min_detectable_effect` in quality with the given power.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.experiments.comparison import (
    MetricComparison,
    SampleSizePlan,
    compare_units,
    format_p,
    plan_sample_size,
)
from nba_mcp_deploy.experiments.fleet import FleetVariant
from nba_mcp_deploy.experiments.metrics import DECISION_METRICS, Metric
from nba_mcp_deploy.experiments.ranks import MIN_SAMPLE
from nba_mcp_deploy.experiments.twosample import BoolArray, FloatArray, IntArray
from nba_mcp_deploy.experiments.units import count_units, unit_means
from nba_mcp_deploy.experiments.verdict import Verdict, decide
from nba_mcp_deploy.monitoring.performance import ModelTask

# How loose a verdict may be made: alpha stays below MAX_ALPHA, power at least MIN_POWER.
MAX_ALPHA = 0.5
MIN_POWER = 0.5


@dataclass(frozen=True)
class VariantSample:
    """One variant's traffic: per request (unit, latency, failed) and per known outcome."""

    version: str
    request_units: IntArray
    latency_ms: FloatArray
    failed: BoolArray
    outcome_units: IntArray
    outcome_values: FloatArray  # 1/0 correctness (classifier) or absolute error (regressor)


@dataclass(frozen=True)
class AnalysisSettings:
    """How strict the comparison is; validated here so every entry point refuses the same values."""

    alpha: float = 0.05
    power: float = 0.8
    min_detectable_effect: float = 0.05
    min_units: int = 30

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not 0 < self.alpha < MAX_ALPHA:
            raise InvalidInputError(
                "alpha", self.alpha, f"the false-positive rate must be in (0, {MAX_ALPHA:g}), e.g. 0.05"
            )
        if isinstance(self.power, bool) or not MIN_POWER <= self.power < 1:
            raise InvalidInputError("power", self.power, f"must be in [{MIN_POWER:g}, 1), e.g. 0.8")
        if isinstance(self.min_detectable_effect, bool) or not 0 < self.min_detectable_effect <= 1:
            raise InvalidInputError(
                "min_detectable_effect",
                self.min_detectable_effect,
                "a relative change in (0, 1], e.g. 0.05 for 5% of variant A's accuracy or MAE",
            )
        if isinstance(self.min_units, bool) or not isinstance(self.min_units, int) or self.min_units < MIN_SAMPLE:
            raise InvalidInputError("min_units", self.min_units, f"must be a whole number >= {MIN_SAMPLE}")

    @property
    def alpha_per_metric(self) -> float:
        return self.alpha / len(DECISION_METRICS)


@dataclass(frozen=True)
class VariantSummary:
    """One variant as an operator reads it: counts and latency per request, quality per unit."""

    version: str
    requests: int
    units: int
    errors: int
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    outcomes: int
    outcome_units: int
    accuracy: float | None
    mae: float | None


@dataclass(frozen=True)
class ABTestReport:
    """Everything `get_ab_test_results` answers."""

    model_id: str
    version_a: str
    version_b: str
    task: ModelTask | None
    variant_a: VariantSummary
    variant_b: VariantSummary
    comparisons: tuple[MetricComparison, ...]
    sample_size: SampleSizePlan | None
    verdict: Verdict
    reason: str
    alpha: float
    alpha_per_metric: float
    notes: tuple[str, ...]
    # Each variant's A/B traffic on every replica together (empty without a store to add it up).
    fleet: tuple[FleetVariant, ...] = ()


def _percentile(values: FloatArray, q: float) -> float | None:
    return float(np.percentile(values, q)) if values.size else None


def _successful_latency(sample: VariantSample) -> tuple[IntArray, FloatArray]:
    ok = ~sample.failed & np.isfinite(sample.latency_ms)
    return sample.request_units[ok], sample.latency_ms[ok]


def summarize(sample: VariantSample, task: ModelTask | None) -> VariantSummary:
    """Counts, error rate and latency percentiles per request; quality as a mean over units."""
    requests = int(sample.failed.shape[0])
    errors = int(sample.failed.sum())
    _, latency = _successful_latency(sample)
    quality = unit_means(sample.outcome_units, sample.outcome_values)
    mean = float(quality.mean()) if quality.size else None
    return VariantSummary(
        version=sample.version,
        requests=requests,
        units=count_units(sample.request_units),
        errors=errors,
        error_rate=errors / requests if requests else None,
        latency_p50_ms=_percentile(latency, 50),
        latency_p95_ms=_percentile(latency, 95),
        outcomes=int(np.isfinite(sample.outcome_values).sum()),
        outcome_units=int(quality.shape[0]),
        accuracy=mean if task is ModelTask.CLASSIFICATION else None,
        mae=mean if task is ModelTask.REGRESSION else None,
    )


def quality_metric(task: ModelTask | None) -> Metric | None:
    if task is None:
        return None
    return Metric.ACCURACY if task is ModelTask.CLASSIFICATION else Metric.MAE


def analyze(
    model_id: str,
    a: VariantSample,
    b: VariantSample,
    task: ModelTask | None,
    settings: AnalysisSettings | None = None,
) -> ABTestReport:
    """Compare variant B with variant A and reach a verdict."""
    settings = settings or AnalysisSettings()
    alpha, minimum = settings.alpha_per_metric, settings.min_units
    summary_a, summary_b = summarize(a, task), summarize(b, task)
    comparisons: list[MetricComparison] = []
    notes: list[str] = []

    errors = None
    errors_a = unit_means(a.request_units, a.failed.astype(np.float64))
    errors_b = unit_means(b.request_units, b.failed.astype(np.float64))
    if min(errors_a.size, errors_b.size) >= minimum:
        errors = compare_units(Metric.ERROR_RATE, errors_a, errors_b, alpha=alpha)
        comparisons.append(errors)

    quality = None
    plan = None
    metric = quality_metric(task)
    if metric is not None:
        quality_a = unit_means(a.outcome_units, a.outcome_values)
        quality_b = unit_means(b.outcome_units, b.outcome_values)
        if min(quality_a.size, quality_b.size) >= minimum:
            quality = compare_units(metric, quality_a, quality_b, alpha=alpha)
            comparisons.append(quality)
        plan = plan_sample_size(
            metric,
            quality_a,
            quality_b,
            min_detectable_effect=settings.min_detectable_effect,
            alpha=alpha,
            power=settings.power,
        )

    latency_a = unit_means(*_successful_latency(a))
    latency_b = unit_means(*_successful_latency(b))
    if min(latency_a.size, latency_b.size) >= minimum:
        latency = compare_units(Metric.LATENCY_MS, latency_a, latency_b, alpha=alpha)
        comparisons.append(latency)
        if latency.significant:
            slower = "B" if latency.test.difference > 0 else "A"
            notes.append(
                f"{slower} is slower: median latency {latency.test.estimate_b:.3g} ms (B) vs "
                f"{latency.test.estimate_a:.3g} ms (A), p = {format_p(latency.test.p_value)}; "
                "latency is reported, it does not decide the verdict"
            )

    verdict, reason = decide(
        units=(summary_a.units, summary_b.units),
        outcome_units=(summary_a.outcome_units, summary_b.outcome_units),
        min_units=minimum,
        quality_metric=metric,
        quality=quality,
        errors=errors,
        plan=plan,
    )
    return ABTestReport(
        model_id=model_id,
        version_a=a.version,
        version_b=b.version,
        task=task,
        variant_a=summary_a,
        variant_b=summary_b,
        comparisons=tuple(comparisons),
        sample_size=plan,
        verdict=verdict,
        reason=reason,
        alpha=settings.alpha,
        alpha_per_metric=alpha,
        notes=tuple(notes),
    )
