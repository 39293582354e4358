"""A production rollout on real NBA models, end to end with the Python API:

register -> stage -> canary -> verdict -> promote -> monitor -> drift alert -> rollback.

Run from the repository root:  .venv/bin/python examples/production_deployment.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from nba_mcp_deploy import AlertSeverity, DriftMethod, ModelServingManager, ModelStage, nba_models

MODEL = "next_season"


def serve(manager: ModelServingManager, frame: pd.DataFrame, keys: list[str]) -> dict[str, float]:
    """Predict each row with its player's sticky key; return prediction id -> outcome."""
    outcomes = {}
    for key, record, outcome in zip(keys, nba_models.records(frame), frame["positive_next"], strict=True):
        result = manager.predict(MODEL, [record], request_key=key)
        outcomes[result.prediction_ids[0]] = float(outcome)
    return outcomes


def main() -> None:
    nba_models.quiet_mlflow()
    dataset = nba_models.next_season_dataset(nba_models.load_raptor(nba_models.find_raptor_csv([Path("data")])))
    trained = nba_models.train_models(dataset)
    training = dataset[dataset["season"] <= 2019]
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        nba_models.save_skops(trained.boosting, models / "gb.skops")
        nba_models.save_mlflow_sklearn(trained.logistic, models / "logistic", trained.holdout)
        manager = ModelServingManager(
            registry_dir=Path(tmp) / "registry", model_roots=models, routing_seed=3, canary_check_interval_sec=0.2
        )
        # The registry of the manager's deployment: promoting to production activates what it serves.
        registry, monitor = manager.registry, manager.monitor(MODEL)
        experiments = manager.services.experiments  # canaries and A/B analysis: the core's service

        print("1. register and stage")
        registry.register_model(
            MODEL,
            "v1.0",
            stage=ModelStage.STAGING,
            framework="sklearn",
            algorithm="gradient_boosting",
            metrics={"holdout_accuracy": trained.accuracy["v1.0"]},
            model_uri="gb.skops",
        )
        registry.promote_model(MODEL, "v1.0", ModelStage.PRODUCTION)
        print(f"   v1.0 in production; serving active: {manager.get_deployment(MODEL).active_version}")
        monitor.set_reference_data(features=training[nba_models.FEATURES])
        registry.register_model(
            MODEL,
            "v2.0",
            stage=ModelStage.STAGING,
            framework="sklearn",
            algorithm="logistic_regression",
            metrics={"holdout_accuracy": trained.accuracy["v2.0"]},
            model_uri="logistic",
            parent="v1.0",
        )
        manager.deploy_model(MODEL, "v2.0", model_uri="logistic", set_active=False)

        print("2. canary v2.0: 10% -> 50% -> 100% while its guards hold")
        # Both versions answer in well under a millisecond, so on a busy shared machine the p95
        # latency ratio is mostly noise: keep that guard loose here (the default is 1.5).
        experiments.start_canary(MODEL, "v2.0", steps=[0.1, 0.5, 1.0], min_requests_per_step=60, max_latency_ratio=10.0)
        holdout = trained.holdout
        keys = [str(p) for p in holdout["player_id"]]
        rounds = 0
        status = experiments.canary_status(MODEL)
        while status.phase.value == "running" and rounds < 10:
            outcomes = serve(manager, holdout, keys)
            monitor.log_actuals(outcomes)
            experiments.wait_idle()
            status = experiments.canary_status(MODEL)
            rounds += 1
        for event in status.history:
            print(f"   {event.kind.value:<14} candidate at {event.weight:.0%}: {event.reason}")
        print(f"   canary {status.phase.value} after {rounds} rounds of {len(holdout)} requests")

        print("3. verdict")
        report = experiments.ab_test_results(MODEL, "v1.0", "v2.0")
        print(f"   {report.verdict.value}: {report.reason[:160]}...")
        production = registry.get_model(MODEL, stage=ModelStage.PRODUCTION).version
        active = manager.get_deployment(MODEL).active_version
        print(f"   registry production: {production}; serving active: {active}")

        print("4. monitor: a feed bug reports minutes and possessions in seconds")
        broken = holdout.copy()
        broken[["mp", "poss"]] = broken[["mp", "poss"]] * 60
        serve(manager, broken, keys)
        drift = monitor.detect_feature_drift(method=DriftMethod.PSI, window_hours=1)
        print(f"   drifted: {drift.drifted_features} (dataset drift: {drift.dataset_drift})")
        for alert in monitor.get_alerts(severity=AlertSeverity.WARNING)[:2]:
            print(f"   alert [{alert.severity.value}] {alert.message}")

        print("5. roll back")
        result = registry.rollback_model(MODEL)
        print(
            f"   production: {result.version.version} (was {result.replaced.version if result.replaced else '-'}); "
            f"serving active: {manager.get_deployment(MODEL).active_version}"
        )
        manager.close()


if __name__ == "__main__":
    main()
