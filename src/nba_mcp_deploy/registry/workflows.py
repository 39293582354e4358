"""Versioning workflows (the seed's `ModelVersionManager`): promotion behind metric checks, and
comparisons that include what the training runs behind two versions recorded.

A version's metrics for these purposes are its registry metrics, completed by its training
run's (the registry's own win where both have one). When the tracker does not answer, the
workflows go on with the registry's records and say so in their notes. Rollback needs no
workflow: `ModelRegistry.rollback_model` (mirrored to MLflow like every stage change).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from nba_mcp_deploy.registry.compare import Comparison, HyperparameterDiff, MetricDiff, diff_metrics, diff_values
from nba_mcp_deploy.registry.records import ModelVersion, StageChangeResult
from nba_mcp_deploy.registry.registry import DEFAULT_ACTOR, ModelRegistry
from nba_mcp_deploy.registry.runs import TrainingRun, run_hyperparameters, run_metrics
from nba_mcp_deploy.registry.stages import Stage, parse_stage
from nba_mcp_deploy.registry.validation import validate_name


@dataclass(frozen=True)
class MetricGate:
    """The candidate's `metric` must not be worse than production's by more than `tolerance`
    (absolute; 'worse' is lower when `higher_is_better`, else higher)."""

    metric: str
    tolerance: float = 0.0
    higher_is_better: bool = True

    def __post_init__(self) -> None:
        validate_name(self.metric, "gates.metric")
        tolerance = self.tolerance
        if (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, int | float)
            or not math.isfinite(tolerance)
            or tolerance < 0
        ):
            raise InvalidInputError("gates.tolerance", tolerance, "expected a finite number >= 0")


@dataclass(frozen=True)
class GateResult:
    """One check: both values (None when missing), whether it passed, and why in words."""

    gate: MetricGate
    candidate: float | None
    production: float | None
    passed: bool
    reason: str


@dataclass(frozen=True)
class CheckedPromotion:
    """A promotion that passed its checks: what changed and what was checked."""

    result: StageChangeResult
    checks: tuple[GateResult, ...]


@dataclass(frozen=True)
class VersionComparison:
    """The registry's comparison plus the differences between the two training runs."""

    comparison: Comparison
    run_a: TrainingRun | None
    run_b: TrainingRun | None
    run_metrics: tuple[MetricDiff, ...]
    run_params: tuple[HyperparameterDiff, ...]
    notes: tuple[str, ...]


class VersionWorkflows:
    """Checked promotion and run-aware comparison over a `ModelRegistry` (and its tracker, if any)."""

    def __init__(self, registry: ModelRegistry) -> None:
        self._registry = registry

    def metrics_of(self, version: ModelVersion) -> tuple[dict[str, float], list[str]]:
        """The version's metrics completed by its run's, and notes on what could not be read."""
        run, notes = self._run(version)
        metrics = {**run_metrics(run), **version.metrics} if run is not None else dict(version.metrics)
        return metrics, notes

    def check_promotion(self, model_id: str, version: str, gates: list[MetricGate]) -> list[GateResult]:
        """Evaluate `gates` for a candidate against the current production version (no change made)."""
        candidate = self._registry.get_model(model_id, version)
        try:
            production: ModelVersion | None = self._registry.get_production_model(candidate.model_id)
        except NotFoundError:  # no production version: nothing to be worse than
            production = None
        if production is None or production.ref == candidate.ref:
            why = "no other version is in production" if production is None else "it is the production version"
            return [GateResult(g, None, None, True, f"nothing to compare with: {why}") for g in gates]
        ours, notes = self.metrics_of(candidate)
        theirs, more = self.metrics_of(production)
        suffix = f" ({'; '.join(notes + more)})" if notes or more else ""
        return [_evaluate(gate, ours.get(gate.metric), theirs.get(gate.metric), production, suffix) for gate in gates]

    def promote_with_checks(
        self,
        model_id: str,
        version: str,
        gates: list[MetricGate],
        *,
        target_stage: Stage | str = Stage.PRODUCTION,
        actor: str = DEFAULT_ACTOR,
        note: str = "",
    ) -> CheckedPromotion:
        """Promote only if every gate passes; ConflictError naming each failed check otherwise."""
        target = parse_stage(target_stage, "target_stage")
        checks = self.check_promotion(model_id, version, gates)
        failed = [c for c in checks if not c.passed]
        if failed:
            raise ConflictError(
                f"promotion of {model_id}:{version} to {target.value} refused: " + "; ".join(c.reason for c in failed)
            )
        result = self._registry.promote_model(model_id, version, target, actor=actor, note=note)
        return CheckedPromotion(result, tuple(checks))

    def compare_versions(
        self, model_id: str, version_a: str | None, version_b: str | None, *, model_id_b: str | None = None
    ) -> VersionComparison:
        """`ModelRegistry.compare_models` plus the metric and parameter differences of the runs."""
        comparison = self._registry.compare_models(model_id, version_a, version_b, model_id_b=model_id_b)
        run_a, notes_a = self._run(comparison.a)
        run_b, notes_b = self._run(comparison.b)
        metrics_a = run_metrics(run_a) if run_a else {}
        metrics_b = run_metrics(run_b) if run_b else {}
        params_a: dict[str, Any] = run_hyperparameters(run_a) if run_a else {}
        params_b: dict[str, Any] = run_hyperparameters(run_b) if run_b else {}
        return VersionComparison(
            comparison=comparison,
            run_a=run_a,
            run_b=run_b,
            run_metrics=tuple(diff_metrics(metrics_a, metrics_b)),
            run_params=tuple(diff_values(params_a, params_b)[0]),
            notes=tuple(notes_a + notes_b),
        )

    def _run(self, version: ModelVersion) -> tuple[TrainingRun | None, list[str]]:
        runs = self._registry.runs
        if runs is None:
            return None, []
        try:
            return runs.run_of(version), []
        except UnavailableError as exc:
            return None, [f"the training run of {version.ref} could not be read: {exc}"]


def _evaluate(
    gate: MetricGate, candidate: float | None, production: float | None, current: ModelVersion, suffix: str
) -> GateResult:
    name, tolerance = gate.metric, gate.tolerance
    if candidate is None:
        return GateResult(gate, None, production, False, f"the candidate has no metric {name!r}{suffix}")
    if production is None:
        return GateResult(
            gate, candidate, None, True, f"{current.ref} (production) has no metric {name!r} to compare with"
        )
    worse_by = production - candidate if gate.higher_is_better else candidate - production
    passed = worse_by <= tolerance + 1e-12
    relation = "not worse than" if worse_by <= 0 else f"worse by {worse_by:.4g} than"
    verdict = "within" if passed else "beyond"
    reason = (
        f"{name} {candidate:.4g} is {relation} production {current.ref} ({production:.4g}), "
        f"{verdict} the tolerance {tolerance:g}"
    )
    return GateResult(gate, candidate, production, passed, reason)
