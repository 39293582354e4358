"""Real NBA models for the demo, the examples, the tests and the benchmarks.

The task: from a player's season (FiveThirtyEight RAPTOR data, CC BY 4.0, shipped in
`data/raptor/`), predict whether he has a positive overall RAPTOR impact the *next* season
(players with >= 500 minutes in it). Trained on seasons up to 2019, tested on 2020-2021.

- `v1.0`: gradient boosting, saved as a `.skops` file;
- `v2.0`: scaled logistic regression, saved as an MLflow sklearn model directory with a signature;
- `v2.1`: v2.0 behind a strict input guard (refuses implausible minutes), an MLflow pyfunc
  "model from code": the model that trips the circuit breaker when a data feed goes bad.

Heavy imports (pandas, scikit-learn, mlflow) happen here at module level: never import this
module from the server.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

RAPTOR_FILE = Path("raptor") / "modern_RAPTOR_by_player.csv"
FEATURES = [
    "poss",
    "mp",
    "raptor_box_offense",
    "raptor_box_defense",
    "raptor_onoff_offense",
    "raptor_onoff_defense",
    "war_total",
    "pace_impact",
]
MIN_NEXT_SEASON_MINUTES = 500
MAX_PLAUSIBLE_MINUTES = 4500.0  # more than a player can log in one regular season

STRICT_MODEL_CODE = f'''"""v2.1: the v2.0 classifier behind a strict input guard (an MLflow model from code)."""
import mlflow
import numpy as np
from mlflow.pyfunc import PythonModel

FEATURES = {FEATURES!r}


class StrictNextSeasonModel(PythonModel):
    def load_context(self, context):
        import mlflow.sklearn

        self.model = mlflow.sklearn.load_model(context.artifacts["base_model"])

    def predict(self, context, model_input, params=None):
        minutes = model_input["mp"].to_numpy(dtype=float)
        if (minutes > {MAX_PLAUSIBLE_MINUTES!r}).any() or (minutes < 0).any():
            raise ValueError("implausible minutes played: the stats feed looks corrupted")
        return self.model.predict_proba(model_input[FEATURES])[:, 1]


mlflow.models.set_model(StrictNextSeasonModel())
'''


def find_raptor_csv(data_roots: Sequence[Path]) -> Path:
    """The shipped RAPTOR file under one of the data roots (default `./data`)."""
    for root in data_roots:
        candidate = root / RAPTOR_FILE
        if candidate.is_file():
            return candidate
    roots = ", ".join(str(r) for r in data_roots)
    raise FileNotFoundError(f"{RAPTOR_FILE} not found under the data roots ({roots}); run from the repository root")


def load_raptor(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def next_season_dataset(raptor: pd.DataFrame) -> pd.DataFrame:
    """One row per player-season with next season's outcome: `positive_next` (0/1)."""
    following = raptor[["player_id", "season", "raptor_total", "mp"]].copy()
    following["season"] -= 1
    pairs = raptor.merge(following, on=["player_id", "season"], suffixes=("", "_next"))
    pairs = pairs[pairs["mp_next"] >= MIN_NEXT_SEASON_MINUTES].dropna(subset=FEATURES)
    pairs = pairs.assign(positive_next=(pairs["raptor_total_next"] > 0).astype(int))
    pairs[FEATURES] = pairs[FEATURES].astype(float)
    return pairs.reset_index(drop=True)


@dataclass(frozen=True)
class TrainedModels:
    """The fitted estimators, their holdout accuracy and the holdout rows."""

    boosting: Any
    logistic: Any
    accuracy: dict[str, float]
    holdout: pd.DataFrame


def train_models(dataset: pd.DataFrame, seed: int = 0) -> TrainedModels:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = dataset[dataset["season"] <= 2019]
    holdout = dataset[dataset["season"] >= 2020]
    boosting = GradientBoostingClassifier(n_estimators=150, max_depth=3, random_state=seed)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    accuracy = {}
    for name, model in (("v1.0", boosting), ("v2.0", logistic)):
        model.fit(train[FEATURES], train["positive_next"])
        accuracy[name] = float(np.mean(model.predict(holdout[FEATURES]) == holdout["positive_next"]))
    return TrainedModels(boosting, logistic, accuracy, holdout.reset_index(drop=True))


def train_on_raptor(data_roots: Sequence[Path], seed: int = 0) -> TrainedModels:
    """Both models trained on the RAPTOR file found under `data_roots` (what every example,
    benchmark and the demo start from)."""
    return train_models(next_season_dataset(load_raptor(find_raptor_csv(data_roots))), seed)


def quiet_mlflow() -> None:
    """MLflow logs INFO lines while saving models; the demo and examples print their own story.

    MLflow sets its logger's level when first imported, so import it before lowering it.
    """
    import mlflow  # noqa: F401

    logging.getLogger("mlflow").setLevel(logging.WARNING)


def save_skops(model: Any, path: Path) -> Path:
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(model, path)
    return path


def save_mlflow_sklearn(model: Any, path: Path, example: pd.DataFrame) -> Path:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(example[FEATURES], model.predict(example[FEATURES]))
    mlflow.sklearn.save_model(model, str(path), signature=signature, input_example=example[FEATURES].iloc[:2])
    return path


def save_strict_pyfunc(base_model_dir: Path, path: Path, example: pd.DataFrame, code_dir: Path) -> Path:
    import mlflow.pyfunc
    from mlflow.models import infer_signature

    code_dir.mkdir(parents=True, exist_ok=True)
    code_file = code_dir / "strict_next_season_model.py"
    code_file.write_text(STRICT_MODEL_CODE)
    signature = infer_signature(example[FEATURES], np.zeros(len(example)))
    with warnings.catch_warnings():
        # MLflow suggests type hints on predict() (the signature above already describes the
        # inputs) and forces its own warning filter, so drop that one message at display time.
        shown = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            if "type hints to the `predict` method" not in str(message):
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        mlflow.pyfunc.save_model(
            str(path),
            python_model=str(code_file),
            artifacts={"base_model": str(base_model_dir)},
            signature=signature,
            input_example=example[FEATURES].iloc[:2],
        )
    return path


def records(frame: pd.DataFrame) -> list[dict[str, float]]:
    """Rows as the `inputs` records a predict call takes (exactly the model's features)."""
    return [
        {name: float(value) for name, value in zip(FEATURES, row, strict=True)} for row in frame[FEATURES].to_numpy()
    ]
