"""Tiny models for serving tests. They stand in for a user's model, never for our own code."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class SumModel:
    """A regressor over features a, b whose failures a test can switch on and off."""

    def __init__(self, offset: float = 0.0, names: tuple[str, ...] = ("a", "b")) -> None:
        self.feature_names_in_ = np.array(names, dtype=object)
        self.offset = offset
        self.failing = False
        self.calls = 0
        self._lock = threading.Lock()

    def predict(self, features: Any) -> np.ndarray:
        with self._lock:
            self.calls += 1
        if self.failing:
            raise RuntimeError("model backend unavailable")
        return np.asarray(features, dtype=float).sum(axis=1) + self.offset


class SlowModel(SumModel):
    """Waits on an event inside predict, to hold a call in flight."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self, features: Any) -> np.ndarray:
        if self.release.is_set():
            return super().predict(features)
        self.entered.set()
        self.release.wait(10)
        return super().predict(features)


def rec(a: float = 1.0, b: float = 2.0) -> dict[str, float]:
    return {"a": a, "b": b}
