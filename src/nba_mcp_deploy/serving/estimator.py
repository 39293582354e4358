"""Any object with `predict` (and optionally `predict_proba`) as a servable model.

Duck-typed so the core needs no scikit-learn import. The model is called with a NumPy matrix
whenever it accepts one (building a DataFrame per call is slower); models that need
column names (e.g. a ColumnTransformer selecting by name) are detected at warm-up and get a
DataFrame instead.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.errors import ModelLoadError
from nba_mcp_deploy.serving.ports import ModelOutput

# scikit-learn warns on every call when a model fitted on a DataFrame gets a NumPy matrix.
# Our matrix is built from validated, named columns in the model's own order, so the
# warning says nothing here; silence exactly this message and no other.
warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)


def declared_feature_names(estimator: Any) -> list[str] | None:
    """The estimator's input columns: `feature_names_in_`, else x0..xN-1 from `n_features_in_`."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    count = getattr(estimator, "n_features_in_", None)
    if isinstance(count, int | np.integer) and count > 0:
        return [f"x{i}" for i in range(int(count))]
    return None


def _allows_nan(estimator: Any) -> bool:
    """scikit-learn's own input tag; False for anything that does not say."""
    if not type(estimator).__module__.startswith("sklearn"):
        return bool(getattr(estimator, "allow_nan", False))
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).input_tags.allow_nan)
    except Exception:
        return False


class EstimatorModel:
    """Adapts an estimator to `LoadedModel`; classifiers answer with one `predict_proba` call."""

    def __init__(
        self,
        estimator: Any,
        *,
        source: str,
        feature_names: Sequence[str] | None = None,
        warmup: npt.NDArray[np.float64] | None = None,
        input_dtypes: Mapping[str, str] | None = None,
    ) -> None:
        if not callable(getattr(estimator, "predict", None)):
            raise ModelLoadError(f"{source}: the object has no predict method ({type(estimator).__name__})")
        names = list(feature_names) if feature_names is not None else declared_feature_names(estimator)
        if not names:
            raise ModelLoadError(
                f"{source}: the model does not declare its input features (no feature_names_in_, "
                "n_features_in_ or signature); fit it on a DataFrame, log it with an MLflow signature, "
                "or pass feature_names"
            )
        self._estimator = estimator
        self._names = names
        self._source = source
        classes = getattr(estimator, "classes_", None)
        self._classes = np.asarray(classes) if classes is not None else None
        self._proba = callable(getattr(estimator, "predict_proba", None)) and self._classes is not None
        self._allow_nan = _allows_nan(estimator)
        self._warmup = warmup
        self._input_dtypes = dict(input_dtypes or {})
        self._frame_columns: list[str] | None = None

    @property
    def feature_names(self) -> Sequence[str]:
        return self._names

    @property
    def is_classifier(self) -> bool:
        return self._proba

    @property
    def accepts_missing(self) -> bool:
        return self._allow_nan

    @property
    def source(self) -> str:
        return self._source

    @property
    def input_dtypes(self) -> Mapping[str, str]:
        """NumPy dtype names of the inputs as a signature declares them (empty: float64 for all)."""
        return self._input_dtypes

    @property
    def estimator(self) -> Any:
        return self._estimator

    def warmup_input(self) -> npt.NDArray[np.float64]:
        if self._warmup is not None:
            return np.asarray(self._warmup, dtype=np.float64).reshape(-1, len(self._names))[:1]
        return np.zeros((1, len(self._names)), dtype=np.float64)

    def prepare(self) -> None:
        """Warm-up: find the input form the model takes (matrix first, DataFrame if it needs names)."""
        sample = self.warmup_input()
        try:
            self.infer(sample)
            return
        except Exception as matrix_error:
            self._frame_columns = list(self._names)
            try:
                self.infer(sample)
            except Exception:
                self._frame_columns = None
                raise matrix_error from None

    def infer(self, features: npt.NDArray[np.float64]) -> ModelOutput:
        model_input: Any = features
        if self._frame_columns is not None:
            import pandas as pd

            model_input = pd.DataFrame(features, columns=self._frame_columns)
        # scikit-learn checks every step's input for NaN and infinity (its `assume_finite` stays
        # off): the serving core checked only the request, not what a pipeline step makes of it.
        if self._proba:
            assert self._classes is not None
            probabilities = np.asarray(self._estimator.predict_proba(model_input), dtype=np.float64)
            labels = self._classes[np.argmax(probabilities, axis=1)]
            return ModelOutput(labels, probabilities, self._classes.tolist())
        return ModelOutput(np.asarray(self._estimator.predict(model_input)))
