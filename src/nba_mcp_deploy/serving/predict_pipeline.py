"""`PredictPipeline`: one request's way through serving, without taking any lock.

    admit: choose the version (pinned, A/B split, or active) → check the inputs against it →
           get a breaker permit, failing over to a healthy version when its breaker is open
    call:  the model on its own, or as part of its version's micro-batch (`set_batching`)
    after: count the call against the version's breaker and metrics → mirror it to the shadow
           version → hand it to the observers (monitoring, experiments, traffic counters)

The routing snapshot is read once per request, so a request that chose a version just before it
was undeployed still finishes on it. Everything but the model call itself stays per request,
also when requests share a batch.
"""

from __future__ import annotations

import itertools
import os
import random
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import CircuitOpenError, InvalidInputError, ModelExecutionError, NotFoundError
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.serving.batching import MicroBatcher
from nba_mcp_deploy.serving.breaker import Permit
from nba_mcp_deploy.serving.deployment import ModelRouting, ServedVersion
from nba_mcp_deploy.serving.inputs import to_feature_matrix
from nba_mcp_deploy.serving.ports import ModelOutput, PredictionBatch, PredictionObserver
from nba_mcp_deploy.serving.results import PredictionResult, RoutedBy
from nba_mcp_deploy.serving.routing import sticky_point
from nba_mcp_deploy.serving.routing_table import RoutingTable
from nba_mcp_deploy.serving.shadow import ShadowRunner

log = get_logger(__name__)


@dataclass(slots=True)
class _Call:
    """One admitted request on its way through the model: who serves it, with what, under which permit."""

    routing: ModelRouting
    served: ServedVersion
    routed_by: RoutedBy
    request_id: str
    request_key: str | None
    features: npt.NDArray[np.float64]
    permit: Permit
    failover_from: str | None


class PredictPipeline:
    """Serves predictions from the routing snapshots in `table`; see the module docstring."""

    def __init__(
        self,
        table: RoutingTable,
        config: DeploymentConfig,
        clock: Clock,
        rng: random.Random,
        observer: PredictionObserver | None = None,
    ) -> None:
        self._table = table
        self._max_records = config.max_records_per_predict
        self._max_features = config.max_features_per_record
        self._clock = clock
        self._rng = rng
        self._observer = observer
        self._shadow = ShadowRunner(config.shadow_queue_size)
        self._request_prefix = f"{os.getpid():x}{random.getrandbits(24):06x}"
        self._request_counter = itertools.count(1)

    def predict(
        self,
        model_id: str,
        inputs: Any,
        version: str | None = None,
        request_key: str | None = None,
    ) -> PredictionResult:
        """Route, check the breaker, call the model (or join its batch), record, mirror, observe.

        When the model batches requests (`set_batching`), this thread waits for its batch.
        """
        call = self._admit(model_id, inputs, version, request_key)
        future = self._batched(call)
        return self._call_model(call) if future is None else future.result()

    def submit_predict(
        self,
        model_id: str,
        inputs: Any,
        version: str | None = None,
        request_key: str | None = None,
    ) -> Future[PredictionResult]:
        """`predict` for callers that must not block on a batch (an event loop): the future is
        completed by the batch's worker thread. Routing, input and breaker errors raise here;
        without batching the call runs now and the future is already done."""
        call = self._admit(model_id, inputs, version, request_key)
        future = self._batched(call)
        if future is not None:
            return future
        done: Future[PredictionResult] = Future()
        try:
            done.set_result(self._call_model(call))
        except ModelExecutionError as exc:
            done.set_exception(exc)
        return done

    def wait_for_shadow(self, timeout: float = 10.0) -> bool:
        """Block until mirrored requests are processed (for tests and demos)."""
        return self._shadow.wait_idle(timeout)

    def close(self) -> None:
        self._shadow.close()

    # -- admission -------------------------------------------------------------------------

    def _admit(self, model_id: str, inputs: Any, version: str | None, request_key: str | None) -> _Call:
        """Choose the version, check the inputs against it and get a breaker permit (failing
        over to a healthy version when its breaker is open)."""
        routing = self._table.require(model_id)
        served, routed_by = self._choose(routing, version, request_key)
        request_id = f"{self._request_prefix}-{next(self._request_counter):x}"
        features = self._features(inputs, served)
        failover_from: str | None = None
        permit = served.breaker.try_acquire()
        if permit is None:
            served.metrics.record_rejected()
            if routed_by is RoutedBy.PINNED:
                raise CircuitOpenError(model_id, served.version, *self._retry_time(served))
            original = served
            served, features, permit = self._fail_over(routing, original, inputs, features)
            failover_from = original.version
        return _Call(routing, served, routed_by, request_id, request_key, features, permit, failover_from)

    def _choose(
        self, routing: ModelRouting, version: str | None, request_key: str | None
    ) -> tuple[ServedVersion, RoutedBy]:
        if version is not None:
            return routing.require(version), RoutedBy.PINNED
        split = routing.split
        if split is not None:
            if request_key is not None:
                return routing.versions[split.pick(sticky_point(routing.model_id, request_key))], RoutedBy.AB_STICKY
            return routing.versions[split.pick(self._rng.random())], RoutedBy.AB_RANDOM
        if routing.active is None:
            raise NotFoundError(f"{routing.model_id} has no active version; call set_active_version")
        return routing.versions[routing.active], RoutedBy.ACTIVE

    def _features(self, inputs: Any, served: ServedVersion) -> npt.NDArray[np.float64]:
        return to_feature_matrix(
            inputs,
            served.model.feature_names,
            max_records=self._max_records,
            max_features=self._max_features,
            allow_missing=served.model.accepts_missing,
        )

    def _fail_over(
        self, routing: ModelRouting, refused: ServedVersion, inputs: Any, features: npt.NDArray[np.float64]
    ) -> tuple[ServedVersion, npt.NDArray[np.float64], Permit]:
        """The first healthy alternative that accepts the inputs, with its features and permit;
        CircuitOpenError for `refused` when there is none."""
        for candidate in _failover_candidates(routing, refused.version):
            try:
                same_columns = candidate.model.feature_names == refused.model.feature_names
                candidate_features = features if same_columns else self._features(inputs, candidate)
            except InvalidInputError:
                continue
            permit = candidate.breaker.try_acquire()
            if permit is not None:
                return candidate, candidate_features, permit
        raise CircuitOpenError(routing.model_id, refused.version, *self._retry_time(refused))

    def _retry_time(self, served: ServedVersion) -> tuple[float, float]:
        retry_in = served.breaker.retry_in()
        return self._clock.now() + retry_in, retry_in

    # -- the model call --------------------------------------------------------------------

    def _call_model(self, call: _Call) -> PredictionResult:
        """The request's own model call (no batching)."""
        start = time.perf_counter()
        try:
            output = call.served.model.infer(call.features)
            output.check(len(call.features))
        except Exception as exc:
            raise self._failed(call, exc, (time.perf_counter() - start) * 1000) from exc
        return self._succeeded(call, output, (time.perf_counter() - start) * 1000)

    def _batched(self, call: _Call) -> Future[PredictionResult] | None:
        """The request's place in its version's batch; None when it calls the model on its own."""
        batcher = call.served.batcher
        if batcher is None or len(call.features) > batcher.settings.max_batch_size:
            return None
        return self._enqueue(call, batcher)

    def _enqueue(self, call: _Call, batcher: MicroBatcher) -> Future[PredictionResult] | None:
        """Hand the request to its version's batcher; None if that batcher has just been closed."""
        future: Future[PredictionResult] = Future()
        start = time.perf_counter()

        def done(output: ModelOutput | None, error: BaseException | None) -> None:
            latency_ms = (time.perf_counter() - start) * 1000
            if output is None:
                future.set_exception(self._failed(call, error or RuntimeError("no output"), latency_ms))
            else:
                future.set_result(self._succeeded(call, output, latency_ms))

        return future if batcher.submit(call.features, done) else None

    # -- after the call --------------------------------------------------------------------

    def _failed(self, call: _Call, exc: BaseException, latency_ms: float) -> ModelExecutionError:
        """Count a failed model call against the version; the error to raise to the caller."""
        served = call.served
        served.breaker.record(call.permit, False)
        served.metrics.record(latency_ms, failed=True, rows=len(call.features))
        message = f"{type(exc).__name__}: {exc}"
        self._observe(call, [call.request_id], None, latency_ms, message)
        with request_context(model_id=served.model_id, version=served.version, request_id=call.request_id):
            log.warning("model call failed", extra={"error": message})
        error = ModelExecutionError(
            f"{served.model_id} {served.version} failed on request {call.request_id}: {message}"
        )
        error.__cause__ = exc
        return error

    def _succeeded(self, call: _Call, output: ModelOutput, latency_ms: float) -> PredictionResult:
        """Count a successful call, mirror it to the shadow, tell the observers; the result."""
        served, routing, routed_by, request_id = call.served, call.routing, call.routed_by, call.request_id
        rows = len(call.features)
        served.breaker.record(call.permit, True)
        served.metrics.record(latency_ms, failed=False, rows=rows)
        shadow = routing.shadow
        if shadow is not None and shadow.version != served.version and self._rng.random() < shadow.fraction:
            self._mirror(routing, served, call.features, output)
        prediction_ids = [request_id] if rows == 1 else [f"{request_id}-{i}" for i in range(rows)]
        self._observe(call, prediction_ids, _observed_values(output), latency_ms, None)
        return PredictionResult(
            model_id=served.model_id,
            version=served.version,
            request_id=request_id,
            prediction_ids=prediction_ids,
            predictions=output.predictions.tolist(),
            probabilities=None if output.probabilities is None else output.probabilities.tolist(),
            classes=None if output.classes is None else list(output.classes),
            routed_by=routed_by,
            ab_test=routing.split is not None and routed_by in (RoutedBy.AB_RANDOM, RoutedBy.AB_STICKY),
            failover_from=call.failover_from,
            failover_reason=None if call.failover_from is None else f"circuit breaker open for {call.failover_from}",
            latency_ms=latency_ms,
        )

    def _mirror(
        self,
        routing: ModelRouting,
        live: ServedVersion,
        features: npt.NDArray[np.float64],
        output: ModelOutput,
    ) -> None:
        assert routing.shadow is not None
        target = routing.versions.get(routing.shadow.version)
        if target is None:
            return
        live_names = list(live.model.feature_names)
        wanted = list(target.model.feature_names)
        if wanted != live_names:
            if not set(wanted) <= set(live_names):
                target.shadow_stats.record(
                    output,
                    None,
                    0.0,
                    f"shadow needs features the live requests lack: {sorted(set(wanted) - set(live_names))}",
                )
                return
            features = features[:, [live_names.index(name) for name in wanted]]
        self._shadow.submit(target.model, target.shadow_stats, features, output)

    def _observe(
        self,
        call: _Call,
        prediction_ids: Sequence[str],
        predictions: npt.NDArray[Any] | None,
        latency_ms: float,
        error: str | None,
    ) -> None:
        if self._observer is None:
            return
        served = call.served
        try:
            self._observer.observe(
                PredictionBatch(
                    model_id=served.model_id,
                    version=served.version,
                    request_id=call.request_id,
                    prediction_ids=prediction_ids,
                    feature_names=served.model.feature_names,
                    features=call.features,
                    predictions=predictions,
                    latency_ms=latency_ms,
                    error=error,
                    timestamp=self._clock.now(),
                    routed_by=call.routed_by,
                    request_key=call.request_key,
                    failover_from=call.failover_from,
                )
            )
        except Exception:  # an observer must never break serving
            log.exception("prediction observer failed")


def _failover_candidates(routing: ModelRouting, refused: str) -> list[ServedVersion]:
    """Healthy alternatives in order: other A/B variants by weight, the active one, earlier actives."""
    order: list[str] = []
    if routing.split is not None:
        ranked = sorted(zip(routing.split.weights, routing.split.versions, strict=True), reverse=True)
        order.extend(v for w, v in ranked if w > 0)
    if routing.active is not None:
        order.append(routing.active)
    order.extend(routing.previous_active)
    seen = {refused}
    candidates = []
    for name in order:
        if name not in seen and name in routing.versions:
            seen.add(name)
            candidates.append(routing.versions[name])
    return candidates


def _observed_values(output: ModelOutput) -> npt.NDArray[Any]:
    """What observers record per row: P(larger class) for a binary classifier (so AUC and score
    drift can be computed), the predictions otherwise."""
    probabilities = output.probabilities
    if probabilities is not None and probabilities.ndim == 2 and probabilities.shape[1] == 2:
        return probabilities[:, 1]
    return output.predictions
