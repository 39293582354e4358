"""A model that fails on a corrupted feed, for circuit-breaker tests (pickled into .joblib model
files, so it lives in an importable module)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nba_mcp_deploy.nba_games import GAME_FEATURES

MAX_RATING = 150.0  # no player rates this high: a feed that says so is corrupted


class GuardedModel:
    """A fitted classifier behind an input guard: a corrupted stats feed (a rating above
    MAX_RATING) makes it raise, as a model with strict input checks does."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.feature_names_in_ = np.array(GAME_FEATURES, dtype=object)
        self.classes_ = model.classes_

    def _check(self, features: Any) -> None:
        if np.any(np.asarray(features, dtype=float) > MAX_RATING):
            raise ValueError("implausible rating: the stats feed looks corrupted")

    def predict(self, features: Any) -> Any:
        self._check(features)
        return self._model.predict(features)

    def predict_proba(self, features: Any) -> Any:
        self._check(features)
        return self._model.predict_proba(features)
