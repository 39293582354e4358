"""`VersionLoader`: a model version loaded, warmed up and given fresh counters, before it is routed.

A version only joins a routing once it has loaded and answered a warm-up call, so a broken file
never takes traffic. Both a deploy on this replica and following another replica's routing load
versions this way, outside the routing lock, so predictions keep flowing meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ModelLoadError, NotFoundError, PermissionDeniedError, UnavailableError
from nba_mcp_deploy.serving.breaker import BreakerSettings, CircuitBreaker
from nba_mcp_deploy.serving.deployment import ServedVersion
from nba_mcp_deploy.serving.estimator import EstimatorModel
from nba_mcp_deploy.serving.metrics import VersionMetrics
from nba_mcp_deploy.serving.ports import LoadedModel, ModelLoader, ModelOutput
from nba_mcp_deploy.serving.routing_table import RoutingTable
from nba_mcp_deploy.serving.signature import describe


class VersionLoader:
    """Loads versions from a URI (through the `ModelLoader` port) or wraps an in-memory estimator."""

    def __init__(self, config: DeploymentConfig, loader: ModelLoader | None, clock: Clock, table: RoutingTable) -> None:
        self._loader = loader
        self._clock = clock
        self._table = table  # only to say which version keeps serving when a load fails
        self._latency_window = config.latency_window
        self._breaker_settings = BreakerSettings(
            window_size=config.breaker_window_size,
            minimum_calls=config.breaker_minimum_calls,
            failure_rate_threshold=config.error_threshold,
            open_wait_sec=config.breaker_open_wait_sec,
            half_open_calls=config.breaker_half_open_calls,
        )

    def load(
        self,
        model_id: str,
        version: str,
        *,
        model_instance: Any = None,
        model_uri: str | None = None,
        feature_names: Sequence[str] | None = None,
        warmup_input: npt.NDArray[np.float64] | None = None,
        deployed_at: float | None = None,
    ) -> ServedVersion:
        """Load and warm up a version, with a fresh breaker and fresh counters (not yet routed)."""
        started = time.perf_counter()
        model, warmup = self._load(model_id, version, model_instance, model_uri, feature_names, warmup_input)
        return ServedVersion(
            model_id=model_id,
            version=version,
            model=model,
            model_uri=model_uri,
            deployed_at=self._clock.now() if deployed_at is None else deployed_at,
            load_ms=(time.perf_counter() - started) * 1000,
            breaker=CircuitBreaker(self._breaker_settings, self._clock),
            metrics=VersionMetrics(self._latency_window),
            signature=describe(model, warmup),
        )

    def _load(
        self,
        model_id: str,
        version: str,
        model_instance: Any,
        model_uri: str | None,
        feature_names: Sequence[str] | None,
        warmup_input: npt.NDArray[np.float64] | None,
    ) -> tuple[LoadedModel, ModelOutput]:
        """The loaded model and its answer to the warm-up call."""
        current = self._table.get(model_id)
        keeps = (
            f"; {model_id} {current.active} keeps serving" if current is not None and current.active is not None else ""
        )
        model: LoadedModel
        if model_uri is not None:
            if self._loader is None:
                raise ModelLoadError(f"cannot load {model_uri!r}: this manager has no model loader{keeps}")
            try:
                model = self._loader.load(model_uri)
            except (ModelLoadError, NotFoundError, PermissionDeniedError, UnavailableError) as exc:
                raise type(exc)(f"{exc}{keeps}") from exc
        else:
            model = EstimatorModel(model_instance, source="in-memory", feature_names=feature_names, warmup=warmup_input)
        try:
            if isinstance(model, EstimatorModel):
                model.prepare()
            output = model.infer(model.warmup_input())
            output.check(len(model.warmup_input()))
        except Exception as exc:
            raise ModelLoadError(
                f"{model_id} {version} loaded but failed its warm-up call: {type(exc).__name__}: {exc}{keeps}"
            ) from exc
        return model, output
