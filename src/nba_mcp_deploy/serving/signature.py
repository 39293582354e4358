"""What a deployed version takes and returns, for protocol metadata (e.g. the Open Inference Protocol).

Inputs are the model's features in its own order, typed by the model's signature when its loader
knows one (an MLflow signature: `LoadedModel` implementations may expose `input_dtypes`, a
mapping of feature name to NumPy dtype name) and float64 otherwise, which is what the serving
core feeds every model. Outputs are read off the warm-up answer the version gave before it was
allowed to serve, so they describe what it really returns: `predict` (labels or values) and, for
classifiers, `predict_proba` (one column per class), as MLServer's scikit-learn runtime names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy stays out of the protocol codecs' imports
    from nba_mcp_deploy.serving.ports import LoadedModel, ModelOutput

PREDICT = "predict"
PREDICT_PROBA = "predict_proba"
DEFAULT_INPUT_DTYPE = "float64"


@dataclass(frozen=True)
class TensorInfo:
    """One named input or output: its NumPy dtype name and shape (-1: any number of rows)."""

    name: str
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class ModelSignature:
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    classes: tuple[Any, ...] | None

    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]


def describe(model: LoadedModel, warmup: ModelOutput) -> ModelSignature:
    """The signature of `model`, given the answer it gave to its warm-up call."""
    declared = getattr(model, "input_dtypes", None)
    dtypes: Mapping[str, str] = declared if isinstance(declared, Mapping) else {}
    inputs = tuple(TensorInfo(name, str(dtypes.get(name, DEFAULT_INPUT_DTYPE)), (-1,)) for name in model.feature_names)
    predictions = warmup.predictions
    outputs = [TensorInfo(PREDICT, predictions.dtype.name, (-1, *predictions.shape[1:]))]
    probabilities = warmup.probabilities
    if probabilities is not None:
        outputs.append(TensorInfo(PREDICT_PROBA, probabilities.dtype.name, (-1, *probabilities.shape[1:])))
    classes = None if warmup.classes is None else tuple(warmup.classes)
    return ModelSignature(inputs, tuple(outputs), classes)
