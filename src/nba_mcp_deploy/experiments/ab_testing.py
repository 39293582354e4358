"""`ABTestAnalyzer`: turns recorded A/B traffic and logged outcomes into an `ABTestReport`.

Variants default to the model's current split (A = its first version, the control; B = its
second). Results cover the A/B-routed requests the recorder still holds for the two versions,
from `since` on if given: weights changed along the way (a canary's steps) are pooled, so pass
`since` to look at one period. Outcomes are the actuals reported with `log_actuals`, found by
prediction id in the model's monitor.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError
from nba_mcp_deploy.experiments.analysis import ABTestReport, AnalysisSettings, VariantSample, analyze
from nba_mcp_deploy.experiments.fleet import FleetSource, fleet_variants
from nba_mcp_deploy.experiments.outcomes import outcome_values
from nba_mcp_deploy.experiments.recorder import TrafficRecorder
from nba_mcp_deploy.experiments.units import unit_codes
from nba_mcp_deploy.identifiers import validate_model_id, validate_version
from nba_mcp_deploy.monitoring.performance import ModelTask, infer_task
from nba_mcp_deploy.monitoring.service import MonitoringService
from nba_mcp_deploy.serving.manager import ModelServingManager


class ABTestAnalyzer:
    """Reads the recorder, the monitor and the serving state; never changes any of them."""

    def __init__(
        self,
        manager: ModelServingManager,
        monitoring: MonitoringService,
        recorder: TrafficRecorder,
        fleet: FleetSource | None = None,
    ) -> None:
        self._manager = manager
        self._monitoring = monitoring
        self._recorder = recorder
        self._fleet = fleet

    def results(
        self,
        model_id: str,
        version_a: str | None = None,
        version_b: str | None = None,
        *,
        settings: AnalysisSettings | None = None,
        since: float | None = None,
    ) -> ABTestReport:
        """Per-variant figures, tests between them, the sample size still needed and a verdict."""
        validate_model_id(model_id)
        a, b = self.variants(model_id, version_a, version_b)
        sample_a, sample_b, task = self.samples(model_id, a, b, since_time=since)
        report = analyze(model_id, sample_a, sample_b, task, settings)
        if self._fleet is None:
            return report
        fleet = fleet_variants(self._fleet, model_id, (a, b))
        here = sample_a.failed.shape[0] + sample_b.failed.shape[0]
        everywhere = sum(v.requests for v in fleet)
        notes = report.notes
        if everywhere > here:
            notes += (
                f"every replica together served {everywhere} A/B requests of these variants since they started "
                f"(see fleet); the tests use the {here} this replica recorded, with their outcomes",
            )
        return dataclasses.replace(report, fleet=fleet, notes=notes)

    def variants(self, model_id: str, version_a: str | None, version_b: str | None) -> tuple[str, str]:
        """The two versions to compare: the ones named, else the current split's two."""
        if version_a is not None and version_b is not None:
            validate_version(version_a, "version_a")
            validate_version(version_b, "version_b")
            if version_a == version_b:
                raise InvalidInputError("version_b", version_b, "must differ from version_a")
            return version_a, version_b
        if (version_a is None) != (version_b is None):
            raise InvalidInputError(
                "version_b" if version_b is None else "version_a",
                None,
                "give both version_a and version_b, or neither (to compare the current A/B split)",
            )
        split = self._manager.routing(model_id).split
        if split is None:
            raise ConflictError(
                f"{model_id} has no A/B test running: call setup_ab_test (or start_canary) first, or name "
                "version_a and version_b to analyse traffic recorded earlier"
            )
        if len(split.versions) != 2:
            raise InvalidInputError(
                "version_a",
                None,
                f"the split has {len(split.versions)} versions {list(split.versions)}: name version_a and version_b",
            )
        return split.versions[0], split.versions[1]

    def samples(
        self, model_id: str, version_a: str, version_b: str, *, since_seq: int = 0, since_time: float | None = None
    ) -> tuple[VariantSample, VariantSample, ModelTask | None]:
        """Both variants' samples (outcomes scored together) and the model's task."""
        records = self._recorder.records(model_id, (version_a, version_b), since_seq=since_seq, since_time=since_time)
        by_version = {v: [r for r in records if r.version == v] for v in (version_a, version_b)}
        units = {v: unit_codes([r.request_key for r in rs]) for v, rs in by_version.items()}
        ids = [pid for v in (version_a, version_b) for r in by_version[v] for pid in r.prediction_ids]
        predictions, actuals = self._outcomes(model_id, ids)
        task = self._task(model_id, (version_a, version_b), predictions, actuals)
        values = np.full(len(ids), np.nan) if task is None else outcome_values(task, predictions, actuals)
        samples = []
        offset = 0
        for version in (version_a, version_b):
            rs = by_version[version]
            rows = np.fromiter((len(r.prediction_ids) for r in rs), dtype=np.int64, count=len(rs))
            count = int(rows.sum())
            row_values = values[offset : offset + count]
            row_units = np.repeat(units[version], rows)
            offset += count
            known = np.isfinite(row_values)
            samples.append(
                VariantSample(
                    version=version,
                    request_units=units[version],
                    latency_ms=np.fromiter((r.latency_ms for r in rs), dtype=np.float64, count=len(rs)),
                    failed=np.fromiter((r.failed for r in rs), dtype=np.bool_, count=len(rs)),
                    outcome_units=row_units[known],
                    outcome_values=row_values[known],
                )
            )
        return samples[0], samples[1], task

    def _outcomes(self, model_id: str, ids: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        try:
            monitor = self._monitoring.get(model_id)
        except NotFoundError:
            return np.full(len(ids), np.nan), np.full(len(ids), np.nan)
        return monitor.outcomes_of(ids)

    def _task(
        self, model_id: str, versions: Sequence[str], predictions: np.ndarray, actuals: np.ndarray
    ) -> ModelTask | None:
        """From the served models when they are deployed, else from the outcomes seen."""
        try:
            routing = self._manager.routing(model_id)
        except NotFoundError:
            routing = None
        if routing is not None:
            flags = [routing.versions[v].model.is_classifier for v in versions if v in routing.versions]
            if flags:
                return ModelTask.CLASSIFICATION if any(flags) else ModelTask.REGRESSION
        known = np.isfinite(predictions) & np.isfinite(actuals)
        return infer_task(predictions[known], actuals[known]) if known.any() else None
