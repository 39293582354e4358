"""An A/B test between two real NBA models, with outcomes and a statistical verdict.

Every holdout player-season is routed by its player id (sticky), its outcome (did the player have a
positive RAPTOR next season?) is reported once known, and the A/B analysis says whether v2.0 is
really better, with the p-value and the sample size it would need.

Run from the repository root:  .venv/bin/python examples/ab_testing.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nba_mcp_deploy import ModelServingManager, nba_models

MODEL = "next_season"


def main() -> None:
    nba_models.quiet_mlflow()
    trained = nba_models.train_on_raptor([Path("data")])
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        nba_models.save_skops(trained.boosting, models / "gb.skops")
        nba_models.save_mlflow_sklearn(trained.logistic, models / "logistic", trained.holdout)
        manager = ModelServingManager(model_roots=models, routing_seed=1)
        manager.deploy_model(MODEL, "v1.0", model_uri="gb.skops")
        manager.deploy_model(MODEL, "v2.0", model_uri="logistic", set_active=False)
        manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.5, 0.5], sticky=True)
        holdout = trained.holdout
        outcomes: dict[str, float] = {}
        for row, record in zip(holdout.itertuples(), nba_models.records(holdout), strict=True):
            result = manager.predict(MODEL, [record], request_key=str(row.player_id))
            outcomes[result.prediction_ids[0]] = float(row.positive_next)
        matched = manager.monitor(MODEL).log_actuals(outcomes).matched
        print(f"served {len(holdout)} player-seasons split 50/50 by player id; {matched} outcomes reported")
        # A/B statistics come from the core's experiment service, one of the services the manager runs on.
        report = manager.services.experiments.ab_test_results(MODEL, "v1.0", "v2.0", min_detectable_effect=0.05)
        for variant in (report.variant_a, report.variant_b):
            print(
                f"  {variant.version}: {variant.requests} requests, {variant.units} players, "
                f"accuracy {variant.accuracy:.3f}, p95 latency {variant.latency_p95_ms:.2f} ms"
            )
        for comparison in report.comparisons:
            test = comparison.test
            print(
                f"  {comparison.metric.value}: B - A = {test.difference:+.4f} "
                f"({test.confidence:.0%} CI {test.ci_low:+.4f} .. {test.ci_high:+.4f}), "
                f"p = {test.p_value:.3g} [{test.method.value}]"
            )
        if report.sample_size is not None:
            plan = report.sample_size
            print(
                f"  to detect a {plan.min_detectable_effect:.0%} change in {plan.metric.value}: "
                f"{plan.required_a} players per variant (have {plan.have_a} and {plan.have_b})"
            )
        print(f"verdict: {report.verdict.value} - {report.reason}")
        manager.close()


if __name__ == "__main__":
    main()
