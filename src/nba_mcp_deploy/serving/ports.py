"""The interfaces the serving core depends on; adapters and other packages implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from nba_mcp_deploy.serving.results import DependencyHealth


@dataclass(slots=True)
class PredictionBatch:
    """What one served request looked like, handed to observers after the answer is computed.

    `predictions` holds one value per row: the probability of the larger class for a binary
    classifier, the model's predictions otherwise (None when the call failed).
    `features` is the request's validated input as a float matrix (rows x features) in the
    order of `feature_names`; it is the same array the model saw, never copied for observers.
    Built on every request, so slotted rather than frozen; observers must not modify it.
    """

    model_id: str
    version: str
    request_id: str
    prediction_ids: Sequence[str]
    feature_names: Sequence[str]
    features: npt.NDArray[np.float64]
    predictions: npt.NDArray[Any] | None
    latency_ms: float
    error: str | None
    timestamp: float
    # How the version was chosen (a `RoutedBy` value), the sticky key, and the version whose
    # open breaker made this request fail over to `version` (experiments count by these).
    routed_by: str | None = None
    request_key: str | None = None
    failover_from: str | None = None


class PredictionObserver(Protocol):
    """Receives every served request of the models it watches (the monitor implements this).

    Called on the predict path, after the answer is computed and before it is returned, so
    it must be cheap (append to a buffer) and must never raise.
    """

    def observe(self, batch: PredictionBatch) -> None: ...


@dataclass(slots=True)
class ModelOutput:
    """One model call's answer: predictions, and class probabilities for classifiers.

    Built on every request, so slotted rather than frozen (cheaper); treat it as read-only."""

    predictions: npt.NDArray[Any]
    probabilities: npt.NDArray[np.float64] | None = None
    classes: Sequence[Any] | None = None

    def check(self, rows: int) -> None:
        """ValueError unless the model answered one prediction per input row, every number finite.

        A NaN or an infinity is never a right answer (JSON cannot even carry it): it is a failed
        call, counted by the breaker and the metrics like any model error. It happens when a step
        inside a pipeline produces NaN from valid inputs, e.g. `sqrt` of a negative feature."""
        if len(self.predictions) != rows:
            raise ValueError(f"the model returned {len(self.predictions)} predictions for {rows} rows")
        _check_finite("predictions", self.predictions)
        if self.probabilities is not None:
            _check_finite("probabilities", self.probabilities)


def _check_finite(what: str, values: npt.NDArray[Any]) -> None:
    if values.dtype.kind not in "fc" or np.isfinite(values).all():
        return
    bad = np.nonzero(~np.isfinite(values).reshape(len(values), -1).all(axis=1))[0]
    raise ValueError(
        f"the model returned non-finite {what} (NaN or infinity) for rows {bad[:10].tolist()}: a step of the "
        "model produced a value it cannot score (e.g. the square root or logarithm of a negative feature)"
    )


class LoadedModel(Protocol):
    """A model ready to answer: what a loader hands to the serving manager."""

    @property
    def feature_names(self) -> Sequence[str]:
        """Expected input columns, in the order `infer` wants them."""
        ...

    @property
    def is_classifier(self) -> bool:
        """Whether `infer` returns class probabilities."""
        ...

    @property
    def accepts_missing(self) -> bool:
        """Whether NaN inputs are meaningful to the model (else they are refused up front)."""
        ...

    @property
    def source(self) -> str:
        """Where it came from (a model URI, or 'in-memory')."""
        ...

    def infer(self, features: npt.NDArray[np.float64]) -> ModelOutput:
        """Answer for a float matrix whose columns follow `feature_names`, in ONE model call."""
        ...

    def warmup_input(self) -> npt.NDArray[np.float64]:
        """A small valid input for the warm-up call that makes a version ready."""
        ...


class ModelLoader(Protocol):
    """Turns a model URI into a loaded model; raises ModelLoadError / PermissionDeniedError."""

    def load(self, model_uri: str) -> LoadedModel: ...


class HealthSource(Protocol):
    """A dependency that reports its own health into `health_check` (e.g. the MLflow mirror)."""

    def health(self) -> DependencyHealth:
        """Quick and never raising: called on every health check."""
        ...
