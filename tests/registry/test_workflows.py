"""Registering from a training run, checked promotion and run-aware comparison, on the core alone.

The tracker here is an in-memory `TrainingRuns` (a fake of the port, standing in for MLflow the
way a loopback server stands in for a webhook); tests/mlflow_sync/ runs the same workflows
against a real MLflow server.
"""

from __future__ import annotations

import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError, UnavailableError
from nba_mcp_deploy.registry import MetricGate, ModelRegistry, Stage, TrainingRun, VersionWorkflows
from nba_mcp_deploy.registry.records import ModelVersion
from nba_mcp_deploy.registry.runs import SOURCE_RUN_TAG, parse_param, registry_name

M = "win_prob"


class InMemoryRuns:
    """Runs by id; a version's run is the one its `source_run_id` tag names."""

    def __init__(self, *runs: TrainingRun) -> None:
        self.runs = {run.run_id: run for run in runs}
        self.down = False

    def get_run(self, run_id: str) -> TrainingRun:
        if self.down:
            raise UnavailableError("the tracker does not answer")
        if run_id not in self.runs:
            raise NotFoundError(f"no run {run_id}")
        return self.runs[run_id]

    def run_of(self, version: ModelVersion) -> TrainingRun | None:
        run_id = version.tags.get(SOURCE_RUN_TAG)
        return None if run_id is None else self.get_run(run_id)


RUN_A = TrainingRun(
    "a" * 32,
    metrics={"accuracy": 0.80, "val/loss": 0.41, "nan_metric": float("nan")},
    params={"C": "1.0", "penalty": "l2", "fit_intercept": "True", "class_weight": "None", "layers": "[64, 32]"},
    tags={"mlflow.user": "ana"},
)
RUN_B = TrainingRun("b" * 32, metrics={"accuracy": 0.83, "val/loss": 0.38}, params={"C": "0.5", "penalty": "l2"})


@pytest.fixture
def runs() -> InMemoryRuns:
    return InMemoryRuns(RUN_A, RUN_B)


@pytest.fixture
def tracked(registry: ModelRegistry, runs: InMemoryRuns) -> ModelRegistry:
    registry.use_runs(runs)
    return registry


def test_registering_from_a_run_copies_its_metrics_and_params(tracked: ModelRegistry) -> None:
    version = tracked.register_model(M, "v1.0", run_id=RUN_A.run_id, metrics={"accuracy": 0.81}, tags={"team": "LAL"})
    assert version.metrics == {"accuracy": 0.81, "val_loss": 0.41}  # ours win; names in our spelling; NaN dropped
    assert version.hyperparameters == {
        "C": 1.0,
        "penalty": "l2",
        "fit_intercept": True,
        "class_weight": None,
        "layers": [64, 32],
    }
    assert version.tags == {"team": "LAL", SOURCE_RUN_TAG: RUN_A.run_id}
    assert tracked.get_model(M, "v1.0") == version


def test_a_run_id_needs_a_tracker_and_a_known_run(registry: ModelRegistry, runs: InMemoryRuns) -> None:
    with pytest.raises(InvalidInputError, match=r"invalid run_id.*needs MLflow"):
        registry.register_model(M, "v1.0", run_id=RUN_A.run_id)
    registry.use_runs(runs)
    with pytest.raises(InvalidInputError, match="invalid run_id"):
        registry.register_model(M, "v1.0", run_id="../etc")
    with pytest.raises(NotFoundError, match="no run"):
        registry.register_model(M, "v1.0", run_id="c" * 32)
    assert registry.list_models() == []


def test_param_text_reads_back_as_the_value_it_spells() -> None:
    assert [parse_param(t) for t in ("3", "0.25", "True", "None", "[1, 2]", '{"a": 1}', "lbfgs", "NaN", "")] == [
        3,
        0.25,
        True,
        None,
        [1, 2],
        {"a": 1},
        "lbfgs",
        "NaN",
        "",
    ]
    assert [registry_name(n) for n in ("val/loss", "1st", "ok_name", "x" * 80)] == [
        "val_loss",
        "_1st",
        "ok_name",
        "x" * 64,
    ]


@pytest.fixture
def in_production(tracked: ModelRegistry) -> VersionWorkflows:
    tracked.register_model(M, "v1.0", stage=Stage.STAGING, run_id=RUN_A.run_id, metrics={"log_loss": 0.50})
    tracked.promote_model(M, "v1.0", Stage.PRODUCTION)
    return VersionWorkflows(tracked)


def test_a_candidate_within_tolerance_is_promoted(tracked: ModelRegistry, in_production: VersionWorkflows) -> None:
    tracked.register_model(M, "v1.1", stage=Stage.STAGING, metrics={"accuracy": 0.795, "log_loss": 0.49})
    checked = in_production.promote_with_checks(
        M, "v1.1", [MetricGate("accuracy", tolerance=0.01), MetricGate("log_loss", higher_is_better=False)]
    )
    assert [c.passed for c in checked.checks] == [True, True]
    assert (checked.checks[0].candidate, checked.checks[0].production) == (0.795, 0.80)  # production's from its run
    assert "within the tolerance 0.01" in checked.checks[0].reason
    assert checked.result.version.stage is Stage.PRODUCTION
    assert tracked.get_production_model(M).version == "v1.1"


def test_a_worse_candidate_is_refused_naming_every_failed_check(
    tracked: ModelRegistry, in_production: VersionWorkflows
) -> None:
    tracked.register_model(M, "v1.1", stage=Stage.STAGING, metrics={"accuracy": 0.75, "log_loss": 0.70})
    gates = [MetricGate("accuracy", tolerance=0.01), MetricGate("log_loss", 0.1, False), MetricGate("auc")]
    with pytest.raises(ConflictError) as refused:
        in_production.promote_with_checks(M, "v1.1", gates)
    message = str(refused.value)
    assert "accuracy 0.75 is worse by 0.05 than production win_prob:v1.0 (0.8), beyond the tolerance 0.01" in message
    assert "log_loss 0.7 is worse by 0.2" in message
    assert "the candidate has no metric 'auc'" in message
    assert tracked.get_production_model(M).version == "v1.0"
    assert tracked.get_model(M, "v1.1").stage is Stage.STAGING


def test_without_a_production_version_every_check_passes(tracked: ModelRegistry) -> None:
    tracked.register_model(M, "v1.0", stage=Stage.STAGING)
    checks = VersionWorkflows(tracked).check_promotion(M, "v1.0", [MetricGate("accuracy")])
    assert [(c.passed, c.reason) for c in checks] == [
        (True, "nothing to compare with: no other version is in production")
    ]


@pytest.mark.parametrize(
    ("field", "gate"), [("gates.metric", {"metric": "a b"}), ("gates.tolerance", {"tolerance": -1})]
)
def test_a_bad_gate_names_its_field(field: str, gate: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError, match=field):
        MetricGate(**{"metric": "accuracy", **gate})  # type: ignore[arg-type]


def test_comparison_includes_the_runs_and_survives_a_tracker_outage(tracked: ModelRegistry, runs: InMemoryRuns) -> None:
    tracked.register_model(M, "v1.0", run_id=RUN_A.run_id)
    tracked.register_model(M, "v1.1", run_id=RUN_B.run_id)
    workflows = VersionWorkflows(tracked)
    compared = workflows.compare_versions(M, "v1.0", "v1.1")
    assert (compared.run_a, compared.run_b) == (RUN_A, RUN_B)
    accuracy = next(d for d in compared.run_metrics if d.name == "accuracy")
    assert accuracy.absolute == pytest.approx(0.03)
    assert {d.name: (d.a, d.b) for d in compared.run_params} == {
        "C": (1.0, 0.5),
        "class_weight": (None, None),
        "fit_intercept": (True, None),
        "layers": ([64, 32], None),
    }
    assert compared.notes == ()
    runs.down = True
    offline = workflows.compare_versions(M, "v1.0", "v1.1")
    assert offline.run_a is None and offline.run_metrics == ()
    assert offline.comparison.metrics == compared.comparison.metrics
    assert len(offline.notes) == 2 and "could not be read" in offline.notes[0]
