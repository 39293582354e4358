"""Training runs behind model versions, read through a port (`TrainingRuns`) the core does not own.

A tracker (MLflow: `nba_mcp_deploy.mlflow_sync.runs`) records how a model was trained: metrics
and parameters. The registry uses it to register a version from a run (copying what the run
recorded) and the version workflows use it to compare versions and check promotions on what
their runs recorded. Without a tracker the registry works on its own records alone.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from nba_mcp_deploy.registry.records import ModelVersion
from nba_mcp_deploy.registry.validation import MAX_METRICS

# The tag a version registered from a run carries: the run's id.
SOURCE_RUN_TAG = "source_run_id"

_NOT_NAME = re.compile(r"[^A-Za-z0-9_.\-]")
_PYTHON_LITERALS: dict[str, Any] = {"None": None, "True": True, "False": False}


@dataclass(frozen=True)
class TrainingRun:
    """What a tracker recorded for one run: final metrics, parameters (as text), tags."""

    run_id: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


class TrainingRuns(Protocol):
    """Where training runs are read from."""

    def get_run(self, run_id: str) -> TrainingRun:
        """The run; NotFoundError if the tracker has none with this id, UnavailableError if it
        does not answer."""
        ...

    def run_of(self, version: ModelVersion) -> TrainingRun | None:
        """The run behind a version (recorded at registration or found from its model URI),
        or None when it has none; UnavailableError if the tracker does not answer."""
        ...


def registry_name(name: str) -> str:
    """A tracker's metric or parameter name in the registry's spelling ('val/loss' -> 'val_loss')."""
    cleaned = _NOT_NAME.sub("_", name)[:64]
    return cleaned if cleaned[:1].isalpha() or cleaned[:1] == "_" else f"_{cleaned}"[:64]


def run_metrics(run: TrainingRun) -> dict[str, float]:
    """The run's finite metrics under registry names (at most the registry's limit, by name)."""
    finite = {registry_name(k): float(v) for k, v in sorted(run.metrics.items()) if math.isfinite(v)}
    return dict(list(finite.items())[:MAX_METRICS])


def run_hyperparameters(run: TrainingRun) -> dict[str, Any]:
    """The run's parameters under registry names, read back as numbers, booleans, lists... where
    the text is one ('0.1' -> 0.1, 'True' -> True, 'None' -> None), else kept as text."""
    return {registry_name(k): parse_param(v) for k, v in sorted(run.params.items())}


def parse_param(text: str) -> Any:
    """A tracker's parameter text as the JSON value it spells, else the text itself."""
    if text in _PYTHON_LITERALS:
        return _PYTHON_LITERALS[text]
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    return value
