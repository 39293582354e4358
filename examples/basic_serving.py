"""Basic serving with the Python API: deploy two versions of a real NBA model, predict, switch.

Run from the repository root:  .venv/bin/python examples/basic_serving.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from nba_mcp_deploy import ModelServingManager, nba_models


def main() -> None:
    nba_models.quiet_mlflow()
    trained = nba_models.train_on_raptor([Path("data")])
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        nba_models.save_skops(trained.boosting, models / "gb.skops")
        nba_models.save_mlflow_sklearn(trained.logistic, models / "logistic", trained.holdout)
        with ModelServingManager(model_roots=models) as manager:  # in memory: no registry directory
            manager.deploy_model(model_id="next_season", version="v1.0", model_uri="gb.skops")
            manager.deploy_model(model_id="next_season", version="v2.0", model_uri="logistic", set_active=False)
            players = trained.holdout.drop_duplicates("player_name").head(3)
            for version in ("v1.0", "v2.0"):
                if version == "v2.0":
                    manager.set_active_version(model_id="next_season", version=version)  # blue-green switch
                result = manager.predict(model_id="next_season", inputs=nba_models.records(players))
                for name, season, probabilities in zip(
                    players["player_name"], players["season"], result.probabilities or [], strict=True
                ):
                    chance = probabilities[1]
                    print(f"{result.version}  {name:<24} {int(season)}: P(positive RAPTOR next season) = {chance:.2f}")
            health = manager.health_check("next_season")
            print(
                f"health: {health.status.value}; active {health.models[0].active_version}; "
                f"requests {[v.metrics.requests for v in health.models[0].versions]}"
            )


if __name__ == "__main__":
    main()
