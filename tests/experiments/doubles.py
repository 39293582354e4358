"""Tiny user-model stand-ins with a known truth; never stand-ins for our own code."""

from __future__ import annotations

from typing import Any

import numpy as np


class Coin:
    """A binary classifier right with probability `skill`, whatever the outcome.

    Each record carries `u` (uniform in [0, 1)) and `truth` (the outcome the test will report):
    the model answers `truth` when u < skill and the other label otherwise, so over random u its
    accuracy is exactly `skill` in expectation. `failing` makes every call raise.
    """

    classes_ = np.array([0, 1])
    feature_names_in_ = np.array(["u", "truth"], dtype=object)

    def __init__(self, skill: float) -> None:
        self.skill = skill
        self.failing = False

    def predict_proba(self, features: Any) -> np.ndarray:
        if self.failing:
            raise RuntimeError("candidate backend unavailable")
        matrix = np.asarray(features, dtype=float)
        label = np.where(matrix[:, 0] < self.skill, matrix[:, 1], 1 - matrix[:, 1])
        return np.column_stack([1 - label, label]) * 0.8 + 0.1

    def predict(self, features: Any) -> np.ndarray:
        return (self.predict_proba(features)[:, 1] >= 0.5).astype(int)


class Noisy:
    """A regressor predicting `truth` plus uniform noise of width `spread` (MAE = spread / 4)."""

    feature_names_in_ = np.array(["u", "truth"], dtype=object)

    def __init__(self, spread: float) -> None:
        self.spread = spread

    def predict(self, features: Any) -> np.ndarray:
        matrix = np.asarray(features, dtype=float)
        return matrix[:, 1] + (matrix[:, 0] - 0.5) * self.spread


def record(rng: np.random.Generator) -> dict[str, float]:
    """One request: a fresh u and a fair-coin outcome."""
    return {"u": float(rng.random()), "truth": float(rng.integers(0, 2))}
