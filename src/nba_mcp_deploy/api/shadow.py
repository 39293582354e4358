"""Shadow mode of the Python API's serving manager: answers that are recorded and compared, never
served.

The seed's shadow deployment is a second manager, `ModelServingManager(shadow_mode=True)`, called
beside the live one with the same inputs: "predictions not returned to users". So a
shadow-mode manager

- answers every `predict` with a `ShadowPrediction`, not the `PredictionResult` a caller would
  hand to a user; the shadow model's answer is inside it, for comparison;
- never raises because of its model: a model error or an open breaker becomes a
  `ShadowPrediction` with `error` set (counted by the breaker and metrics as usual), so a
  failing shadow cannot break the live request it runs beside;
- records every answer in its monitor like any served answer (`manager.monitor(model_id)`:
  performance once outcomes are logged, drift), and every comparison made with
  `ShadowPrediction.compare_with(live_result)` in the same running totals the core keeps for
  mirrored traffic (`serving/shadow.py`: agreement rate, mean absolute difference, errors,
  latency), read back with `manager.shadow_comparison(model_id)`.

For mirroring inside one manager (a standby version answers a fraction of the live requests off
the request path) use `setup_shadow` instead: that is the server's `setup_shadow` tool.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.serving.ports import ModelOutput
from nba_mcp_deploy.serving.results import PredictionResult
from nba_mcp_deploy.serving.shadow import ShadowSnapshot, ShadowStats

log = get_logger(__name__)


def model_output(result: PredictionResult) -> ModelOutput:
    """A served answer as the model output the core's comparison reads."""
    probabilities = None if result.probabilities is None else np.asarray(result.probabilities, dtype=np.float64)
    return ModelOutput(np.asarray(result.predictions), probabilities, result.classes)


@dataclass(frozen=True)
class ShadowPrediction:
    """A shadow-mode manager's answer: for comparison and monitoring only, never for users.

    `result` is the shadow model's answer (None when it failed: then `error` says why).
    """

    model_id: str
    result: PredictionResult | None
    error: str | None = None
    _comparisons: ShadowStats = field(default_factory=ShadowStats, repr=False, compare=False)

    @property
    def version(self) -> str | None:
        """The version that answered (None when the call failed before a version answered)."""
        return None if self.result is None else self.result.version

    def compare_with(self, live: PredictionResult) -> ShadowSnapshot:
        """Compare with the live answer to the same inputs; returns the model's running totals."""
        if self.result is None:
            self._comparisons.record(model_output(live), None, 0.0, self.error)
        else:
            self._comparisons.record(model_output(live), model_output(self.result), self.result.latency_ms, None)
        snapshot = self._comparisons.snapshot()
        log.debug(
            "shadow compared",
            extra={"model_id": self.model_id, "live_version": live.version, "shadow_version": self.version},
        )
        return snapshot


class ShadowComparisons:
    """The running comparison totals of each model a shadow-mode manager serves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_model: dict[str, ShadowStats] = {}

    def of(self, model_id: str) -> ShadowStats:
        with self._lock:
            return self._by_model.setdefault(model_id, ShadowStats())

    def snapshot(self, model_id: str) -> ShadowSnapshot:
        return self.of(model_id).snapshot()
