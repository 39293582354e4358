"""The seed document's game features, from the shipped RAPTOR data, and real models trained on them.

The seed document predicts games from `home_ppg`, `away_ppg` and `home_def_rating`. RAPTOR rates
players in points per 100 possessions relative to the league average, so a player-season reads as
a rating on the document's scale: offense = league average + RAPTOR offense, defense (points
allowed) = league average - RAPTOR defense. A "game" pairs two player-seasons of one season (home
and away, drawn with a fixed seed); the home side wins when its RAPTOR total is the higher one.
Seasons up to 2019 train, later ones are held out (the document's "recent games").

For the documentation, the examples and the tests; like `nba_models`, never imported by the server.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nba_mcp_deploy.nba_models import find_raptor_csv, load_raptor

GAME_FEATURES = ["home_ppg", "away_ppg", "home_def_rating"]
LEAGUE_RATING = 110.0  # points per 100 possessions, about the league average of 2014-2022
MIN_MINUTES = 500
PAIRINGS_PER_SEASON = 4
LAST_TRAINING_SEASON = 2019


def games(raptor: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Home/away pairings of player-seasons within each season, with the document's features."""
    rng = np.random.default_rng(seed)
    players = raptor[raptor["mp"] >= MIN_MINUTES]
    rows = []
    for season, group in players.groupby("season"):
        for _ in range(PAIRINGS_PER_SEASON):
            order = group.iloc[rng.permutation(len(group))]
            half = len(order) // 2
            home, away = order.iloc[:half], order.iloc[half : 2 * half]
            rows.append(
                pd.DataFrame(
                    {
                        "season": season,
                        "home_ppg": LEAGUE_RATING + home["raptor_offense"].to_numpy(),
                        "away_ppg": LEAGUE_RATING + away["raptor_offense"].to_numpy(),
                        "home_def_rating": LEAGUE_RATING - home["raptor_defense"].to_numpy(),
                        "home_win": (home["raptor_total"].to_numpy() > away["raptor_total"].to_numpy()).astype(int),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True).round({name: 1 for name in GAME_FEATURES})


@dataclass(frozen=True)
class GameModels:
    """Fitted estimators on the games (the document's RandomForest as the first), and the data."""

    forest: Any
    logistic: Any
    constant: Any  # predicts a home win every time: a real model that fails any check
    accuracy: dict[str, float]
    training: pd.DataFrame
    holdout: pd.DataFrame

    def records(self, count: int, start: int = 0) -> list[dict[str, float]]:
        """Held-out games as the `inputs` records of a predict call."""
        frame = self.holdout.iloc[start : start + count][GAME_FEATURES]
        return [{k: float(v) for k, v in row.items()} for row in frame.to_dict("records")]


def train_game_models(data_roots: Sequence[Path]) -> GameModels:
    """The three models trained on the games built from the RAPTOR file under `data_roots`."""
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    data = games(load_raptor(find_raptor_csv(data_roots)))
    training = data[data["season"] <= LAST_TRAINING_SEASON].reset_index(drop=True)
    holdout = data[data["season"] > LAST_TRAINING_SEASON].reset_index(drop=True)
    forest = RandomForestClassifier(n_estimators=100, max_depth=10, random_state=0)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    constant = DummyClassifier(strategy="constant", constant=1)
    accuracy = {}
    for name, model in (("forest", forest), ("logistic", logistic), ("constant", constant)):
        model.fit(training[GAME_FEATURES], training["home_win"])
        accuracy[name] = float(np.mean(model.predict(holdout[GAME_FEATURES]) == holdout["home_win"]))
    return GameModels(forest, logistic, constant, accuracy, training, holdout)
