"""ModelServingManager: deploy versions, route predictions, fail over, shadow, report health.

Thread-safe. Control changes (deploy, switch, A/B, shadow, retire) are serialised by one lock
and publish a new immutable `ModelRouting`; predictions read the current snapshot without
locking and touch only per-version counters. Loading a model happens outside the lock, so
predictions keep flowing while a new version loads and warms up.

With adaptive batching on for a model (`set_batching`), each of its versions has a
`MicroBatcher` worker thread that gathers concurrent requests into one model call; everything
else (routing, input checks, the breaker, metrics, observers, shadow) stays per request.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import (
    CircuitOpenError,
    ConflictError,
    DeployError,
    InvalidInputError,
    ModelExecutionError,
    ModelLoadError,
    NotFoundError,
    PermissionDeniedError,
    UnavailableError,
)
from nba_mcp_deploy.identifiers import validate_model_id, validate_version
from nba_mcp_deploy.logs import get_logger, request_context
from nba_mcp_deploy.operations import OperationMetrics
from nba_mcp_deploy.serving.batching import BatchSettings, MicroBatcher
from nba_mcp_deploy.serving.breaker import BreakerSettings, CircuitBreaker, Permit
from nba_mcp_deploy.serving.control import ControlChange, ControlKind, ControlListener
from nba_mcp_deploy.serving.deployment import ModelRouting, ServedVersion, empty_routing
from nba_mcp_deploy.serving.estimator import EstimatorModel
from nba_mcp_deploy.serving.health import HealthThresholds, model_health, shadow_info, split_info, worst
from nba_mcp_deploy.serving.inputs import to_feature_matrix
from nba_mcp_deploy.serving.metrics import VersionMetrics
from nba_mcp_deploy.serving.ports import (
    HealthSource,
    LoadedModel,
    ModelLoader,
    ModelOutput,
    PredictionBatch,
    PredictionObserver,
)
from nba_mcp_deploy.serving.results import (
    BatchingInfo,
    DeploymentInfo,
    HealthReport,
    PredictionResult,
    RoutedBy,
    VersionInfo,
)
from nba_mcp_deploy.serving.routing import make_split, sticky_point
from nba_mcp_deploy.serving.shadow import ShadowConfig, ShadowRunner
from nba_mcp_deploy.serving.signature import describe

log = get_logger(__name__)


class DeploymentStateSink(Protocol):
    """Where each model's routing document is written on every control change (the registry store).

    With `expected_revision` the save is a compare-and-set (ConflictError when another replica
    saved since); it returns the document's new revision.
    """

    def save_deployment(
        self,
        model_id: str,
        document: Mapping[str, Any],
        *,
        expected_revision: int | None = None,
        updated_by: str = "",
        updated_at: float = 0.0,
    ) -> int: ...


class ModelServingManager:
    """Serves several versions of several models; see the module docstring for the threading model."""

    def __init__(
        self,
        config: DeploymentConfig,
        *,
        loader: ModelLoader | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        observer: PredictionObserver | None = None,
        state_sink: DeploymentStateSink | None = None,
        operations: OperationMetrics | None = None,
        replica_id: str = "",
    ) -> None:
        self._config = config
        # Which replica this is (health_check says it), and the revision of each model's saved
        # routing that this replica's routing reflects (compare-and-set on the next save).
        self.replica_id = replica_id
        self._revisions: dict[str, int] = {}
        self._loader = loader
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random(config.routing_seed)
        self._observer = observer
        self._state_sink = state_sink
        self.operations = operations or OperationMetrics()
        self._breaker_settings = BreakerSettings(
            window_size=config.breaker_window_size,
            minimum_calls=config.breaker_minimum_calls,
            failure_rate_threshold=config.error_threshold,
            open_wait_sec=config.breaker_open_wait_sec,
            half_open_calls=config.breaker_half_open_calls,
        )
        self._thresholds = HealthThresholds(config.error_rate_threshold, config.latency_threshold_ms)
        self._routes: dict[str, ModelRouting] = {}
        self._loading: set[tuple[str, str]] = set()
        self._control = threading.RLock()
        self._shadow = ShadowRunner(config.shadow_queue_size)
        self.restore_problems: list[str] = []
        self._control_listeners: tuple[ControlListener, ...] = ()
        self._health_sources: tuple[HealthSource, ...] = ()
        self._request_prefix = f"{os.getpid():x}{random.getrandbits(24):06x}"
        self._request_counter = itertools.count(1)

    # -- deploying -------------------------------------------------------------------------

    def deploy_model(
        self,
        model_id: str,
        version: str,
        model_instance: Any = None,
        model_uri: str | None = None,
        set_active: bool = True,
        *,
        feature_names: Sequence[str] | None = None,
        warmup_input: npt.NDArray[np.float64] | None = None,
    ) -> DeploymentInfo:
        """Load, warm up and add a version; make it active if `set_active` (or if none is).

        A version is only added once it has loaded and answered a warm-up call. If either
        fails, nothing changes (the previous active version keeps serving) and the error says why.
        """
        validate_model_id(model_id)
        validate_version(version)
        if (model_instance is None) == (model_uri is None):
            raise InvalidInputError(
                "model_uri", model_uri, "give exactly one of model_uri and model_instance (Python API only)"
            )
        key = (model_id, version)
        with self._control:
            routing = self._routes.get(model_id)
            if key in self._loading:
                raise ConflictError(f"{model_id} {version} is already being deployed")
            if routing is not None and version in routing.versions:
                raise ConflictError(
                    f"{model_id} {version} is already deployed "
                    f"(from {routing.versions[version].model_uri or 'memory'}); "
                    "deploy under a new version, or retire it first"
                )
            self._loading.add(key)
        try:
            with request_context(model_id=model_id, version=version):
                served = self._served(model_id, version, model_instance, model_uri, feature_names, warmup_input)
                with self._control:
                    routing = self._routes.get(model_id) or empty_routing(model_id)
                    versions = {**routing.versions, version: served}
                    routing = routing.with_changes(versions=versions)
                    if set_active or routing.active is None:
                        routing = _activate(routing, version)
                    self._publish(routing, ControlKind.DEPLOYED, version)
                    self._ensure_batchers(routing)  # after the save: a refused deploy starts no worker
                log.info("deployed", extra={"load_ms": round(served.load_ms, 1), "active": routing.active})
                return self._info(routing)
        finally:
            with self._control:
                self._loading.discard(key)

    def _served(
        self,
        model_id: str,
        version: str,
        model_instance: Any,
        model_uri: str | None,
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
            metrics=VersionMetrics(self._config.latency_window),
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
        current = self._routes.get(model_id)
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
            output.check_rows(len(model.warmup_input()))
        except Exception as exc:
            raise ModelLoadError(
                f"{model_id} {version} loaded but failed its warm-up call: {type(exc).__name__}: {exc}{keeps}"
            ) from exc
        return model, output

    # -- predicting ------------------------------------------------------------------------

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

    def _call_model(self, call: _Call) -> PredictionResult:
        """The request's own model call (no batching)."""
        start = time.perf_counter()
        try:
            output = call.served.model.infer(call.features)
            output.check_rows(len(call.features))
        except Exception as exc:
            raise self._failed(call, exc, (time.perf_counter() - start) * 1000) from exc
        return self._succeeded(call, output, (time.perf_counter() - start) * 1000)

    def _admit(self, model_id: str, inputs: Any, version: str | None, request_key: str | None) -> _Call:
        """Choose the version, check the inputs against it and get a breaker permit (failing
        over to a healthy version when its breaker is open)."""
        routing = self._routes.get(model_id)
        if routing is None:
            raise NotFoundError(f"model {model_id!r} is not deployed; deployed models: {sorted(self._routes)}")
        served, routed_by = self._choose(routing, version, request_key)
        request_id = f"{self._request_prefix}-{next(self._request_counter):x}"
        config = self._config
        features = to_feature_matrix(
            inputs,
            served.model.feature_names,
            max_records=config.max_records_per_predict,
            max_features=config.max_features_per_record,
            allow_missing=served.model.accepts_missing,
        )
        failover_from: str | None = None
        permit = served.breaker.try_acquire()
        if permit is None:
            served.metrics.record_rejected()
            if routed_by is RoutedBy.PINNED:
                raise CircuitOpenError(model_id, served.version, *self._retry_time(served))
            original = served
            for candidate in _failover_candidates(routing, served.version):
                try:
                    candidate_features = (
                        features
                        if candidate.model.feature_names == original.model.feature_names
                        else to_feature_matrix(
                            inputs,
                            candidate.model.feature_names,
                            max_records=config.max_records_per_predict,
                            max_features=config.max_features_per_record,
                            allow_missing=candidate.model.accepts_missing,
                        )
                    )
                except InvalidInputError:
                    continue
                permit = candidate.breaker.try_acquire()
                if permit is not None:
                    served, features, failover_from = candidate, candidate_features, original.version
                    break
            if permit is None:
                raise CircuitOpenError(model_id, original.version, *self._retry_time(original))
        return _Call(routing, served, routed_by, request_id, request_key, features, permit, failover_from)

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

    def _choose(
        self, routing: ModelRouting, version: str | None, request_key: str | None
    ) -> tuple[ServedVersion, RoutedBy]:
        if version is not None:
            served = routing.versions.get(version)
            if served is None:
                raise NotFoundError(
                    f"{routing.model_id} has no deployed version {version!r}; deployed: {routing.sorted_versions()}"
                )
            return served, RoutedBy.PINNED
        split = routing.split
        if split is not None:
            if request_key is not None:
                return routing.versions[split.pick(sticky_point(routing.model_id, request_key))], RoutedBy.AB_STICKY
            return routing.versions[split.pick(self._rng.random())], RoutedBy.AB_RANDOM
        if routing.active is None:
            raise NotFoundError(f"{routing.model_id} has no active version; call set_active_version")
        return routing.versions[routing.active], RoutedBy.ACTIVE

    def _retry_time(self, served: ServedVersion) -> tuple[float, float]:
        retry_in = served.breaker.retry_in()
        return self._clock.now() + retry_in, retry_in

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

    # -- traffic control -------------------------------------------------------------------

    def set_active_version(self, model_id: str, version: str) -> DeploymentInfo:
        """Send default traffic to `version` (blue-green switch); the old one stays for rollback."""
        with self._control:
            routing = self._routing(model_id)
            self._require_deployed(routing, version)
            routing = _activate(routing, version)
            self._publish(routing, ControlKind.ACTIVATED, version)
            return self._info(routing)

    def retire_model(self, model_id: str, version: str) -> DeploymentInfo:
        """Unload a version that no traffic depends on."""
        with self._control:
            routing = self._routing(model_id)
            self._require_deployed(routing, version)
            if len(routing.versions) == 1:
                raise ConflictError(
                    f"{version} is the only deployed version of {model_id}; deploy another before retiring it"
                )
            if version == routing.active:
                others = [v for v in routing.sorted_versions() if v != version]
                raise ConflictError(
                    f"{version} is the active version of {model_id}; call set_active_version with one of {others} first"
                )
            if routing.split is not None and version in routing.split.versions:
                raise ConflictError(f"{version} is part of the A/B test of {model_id}; clear or change the test first")
            shadow = routing.shadow
            retired = routing.versions[version].batcher
            versions = {k: v for k, v in routing.versions.items() if k != version}
            routing = routing.with_changes(
                versions=versions,
                previous_active=tuple(v for v in routing.previous_active if v != version),
                shadow=None if shadow is not None and shadow.version == version else shadow,
            )
            self._publish(routing, ControlKind.RETIRED, version)
            if retired is not None:
                retired.close(timeout=0)  # drains what is queued, on its own thread
            return self._info(routing)

    def setup_ab_test(
        self, model_id: str, versions: Sequence[str], weights: Sequence[float], sticky: bool = False
    ) -> DeploymentInfo:
        """Split traffic by weight (canary = a small weight raised in steps); replaces any split."""
        with self._control:
            routing = self._routing(model_id)
            split = make_split(versions, weights, sticky=sticky)
            missing = [v for v in split.versions if v not in routing.versions]
            if missing:
                raise InvalidInputError(
                    "versions",
                    list(versions),
                    f"not deployed: {missing}; deployed: {routing.sorted_versions()}",
                )
            routing = routing.with_changes(split=split)
            self._publish(routing, ControlKind.AB_TEST_SET)
            return self._info(routing)

    def clear_ab_test(self, model_id: str) -> DeploymentInfo:
        """Send all traffic back to the active version."""
        with self._control:
            routing = self._routing(model_id)
            routing = routing.with_changes(split=None)
            self._publish(routing, ControlKind.AB_TEST_CLEARED)
            return self._info(routing)

    def setup_shadow(self, model_id: str, version: str, fraction: float = 1.0) -> DeploymentInfo:
        """Mirror `fraction` of live requests to `version`; its answers are only compared, never returned."""
        with self._control:
            routing = self._routing(model_id)
            self._require_deployed(routing, version)
            if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 < fraction <= 1:
                raise InvalidInputError("fraction", fraction, "must be a number in (0, 1]")
            if version in routing.live_versions() and routing.split is None:
                raise InvalidInputError(
                    "version", version, f"it is the active version of {model_id}; shadow a standby version"
                )
            routing = routing.with_changes(shadow=ShadowConfig(version, float(fraction)))
            self._publish(routing, ControlKind.SHADOW_SET, version)
            return self._info(routing)

    def clear_shadow(self, model_id: str) -> DeploymentInfo:
        with self._control:
            routing = self._routing(model_id).with_changes(shadow=None)
            self._publish(routing, ControlKind.SHADOW_CLEARED)
            return self._info(routing)

    def set_reference_location(self, model_id: str, version: str | None, location: Mapping[str, Any] | None) -> None:
        """Record where the reference data of a deployed model (or one version) is, so every replica
        loads the same file (None forgets it); the monitor itself holds the prepared data."""
        with self._control:
            routing = self._routing(model_id)
            references = dict(routing.references)
            key = version or "*"
            if location is None:
                references.pop(key, None)
            else:
                references[key] = dict(location)
            self._publish(
                routing.with_changes(references=MappingProxyType(references)), ControlKind.REFERENCE_SET, version
            )

    def reset_circuit_breaker(self, model_id: str, version: str) -> DeploymentInfo:
        """Close a version's breaker now (after the cause is fixed)."""
        routing = self._routing(model_id)
        self._require_deployed(routing, version)
        routing.versions[version].breaker.reset()
        return self._info(routing)

    def set_batching(self, model_id: str, max_batch_size: int, max_wait_ms: float) -> DeploymentInfo:
        """Gather concurrent requests for each version of the model into one model call: at most
        `max_batch_size` rows per call, no request waiting more than `max_wait_ms` for others.

        Replaces any earlier setting; versions deployed later batch too. Requests with more rows
        than `max_batch_size` call the model on their own.
        """
        return self._change_batching(model_id, BatchSettings(max_batch_size, max_wait_ms), ControlKind.BATCHING_SET)

    def clear_batching(self, model_id: str) -> DeploymentInfo:
        """Each request calls the model on its own again (the default)."""
        return self._change_batching(model_id, None, ControlKind.BATCHING_CLEARED)

    def _change_batching(self, model_id: str, settings: BatchSettings | None, kind: ControlKind) -> DeploymentInfo:
        with self._control:
            routing = self._routing(model_id).with_changes(batching=settings)
            self._publish(routing, kind)
            self._rebatch(routing, settings)  # after the save: a refused change leaves the batchers as they were
            return self._info(routing)

    def batching_of(self, model_id: str) -> BatchSettings | None:
        """The model's batching settings; None when it does not batch or is not deployed."""
        routing = self._routes.get(model_id)
        return None if routing is None else routing.batching

    def _rebatch(self, routing: ModelRouting, settings: BatchSettings | None) -> None:
        """Give every version a new batcher (or none); old ones drain what they hold, then stop."""
        for served in routing.versions.values():
            old = served.batcher
            served.batcher = None if settings is None else self._batcher(served, settings)
            if old is not None:
                old.close(timeout=0)

    def _follow_batching(self, routing: ModelRouting, saved: Any) -> tuple[ModelRouting, list[str]]:
        """`routing` batching as a saved document says (with the control lock held): a changed
        setting gives every version a new batcher, a version loaded just now gets one."""
        settings, problems = None, []
        if saved:
            try:
                settings = BatchSettings(saved["max_batch_size"], saved["max_wait_ms"])
            except (InvalidInputError, KeyError, TypeError) as exc:
                problems.append(f"{routing.model_id}: batching not restored ({exc})")
                settings = routing.batching  # keep what this replica does
        if settings != routing.batching:
            self._rebatch(routing, settings)
        routing = routing.with_changes(batching=settings)
        self._ensure_batchers(routing)
        return routing, problems

    def _ensure_batchers(self, routing: ModelRouting) -> None:
        """Give a batcher to each version without one when the model batches (a version just loaded)."""
        if routing.batching is None:
            return
        for served in routing.versions.values():
            if served.batcher is None:
                served.batcher = self._batcher(served, routing.batching)

    def _batcher(self, served: ServedVersion, settings: BatchSettings) -> MicroBatcher:
        return MicroBatcher(served.model.infer, settings, clock=self._clock, name=f"{served.model_id}-{served.version}")

    # -- reporting -------------------------------------------------------------------------

    def list_deployments(self) -> list[DeploymentInfo]:
        return [self._info(self._routes[m]) for m in sorted(self._routes)]

    def get_deployment(self, model_id: str) -> DeploymentInfo:
        return self._info(self._routing(model_id))

    def health_check(self, model_id: str | None = None) -> HealthReport:
        """Status with reasons, readiness, breakers, counts, latency, A/B and shadow, per model."""
        names = [model_id] if model_id is not None else sorted(self._routes)
        routes = [self._routing(name) for name in names]
        models = [model_health(r, self._thresholds) for r in routes]
        dependencies = [source.health() for source in self._health_sources]
        reasons = [f"{m.model_id}: {reason}" for m in models for reason in m.reasons]
        reasons += [f"not restored after restart: {problem}" for problem in self.restore_problems]
        reasons = (reasons if models else ["no models deployed"]) + [
            f"{d.name}: {reason}" for d in dependencies for reason in d.reasons
        ]
        return HealthReport(
            status=worst([m.status for m in models] + [d.status for d in dependencies]),
            reasons=reasons,
            ready=all(m.ready for m in models),
            checked_at=self._clock.now(),
            models=models,
            operations=self.operations.snapshot(),
            dependencies=dependencies,
            replica_id=self.replica_id,
        )

    def add_control_listener(self, listener: ControlListener) -> None:
        """Tell `listener` about every later control change (see serving/control.py)."""
        with self._control:
            self._control_listeners = (*self._control_listeners, listener)

    def add_health_source(self, source: HealthSource) -> None:
        """Include `source`'s health in every later `health_check`."""
        self._health_sources = (*self._health_sources, source)

    def model_ids(self) -> list[str]:
        """The deployed models, sorted (cheaper than list_deployments)."""
        return sorted(self._routes)

    def is_deployed_model(self, model_id: str) -> bool:
        return model_id in self._routes

    def is_deployed(self, model_id: str, version: str) -> bool:
        routing = self._routes.get(model_id)
        return routing is not None and version in routing.versions

    def routing(self, model_id: str) -> ModelRouting:
        """The current routing snapshot (read-only)."""
        return self._routing(model_id)

    def wait_for_shadow(self, timeout: float = 10.0) -> bool:
        """Block until mirrored requests are processed (for tests and demos)."""
        return self._shadow.wait_idle(timeout)

    def close(self) -> None:
        with self._control:
            batchers = [v.batcher for r in self._routes.values() for v in r.versions.values() if v.batcher]
        for batcher in batchers:
            batcher.close(timeout=5)
        self._shadow.close()

    # -- restoring after a restart, and following other replicas ----------------------------

    def restore(
        self, documents: Mapping[str, Mapping[str, Any]], revisions: Mapping[str, int] | None = None
    ) -> list[str]:
        """Serve what the saved routings say (models from URIs only); returns one line per problem.

        Nothing is written back, so a crash or a missing file never erases saved state: the next
        start tries again. With `revisions` (the documents' revisions in the store), later saves
        are compare-and-set against them. The problems also show in `health_check`.
        """
        problems: list[str] = []
        for model_id, document in sorted(documents.items()):
            revision = None if revisions is None else revisions.get(model_id)
            problems.extend(self.apply_document(model_id, document, revision))
        for problem in problems:
            log.warning("restore problem", extra={"problem": problem})
        self.restore_problems = problems
        return problems

    def apply_document(self, model_id: str, document: Mapping[str, Any], revision: int | None = None) -> list[str]:
        """Make this replica route `model_id` as a saved routing document says; returns the problems.

        Versions it names that are not loaded here are loaded (outside the control lock, like a
        deploy), versions it no longer names are dropped, and its active version, split, shadow
        and previous actives are taken. Loaded versions keep their breaker and counters (they are
        this replica's own). Nothing is saved and no control listener is told: the change was
        made, saved and reported by the replica where it happened. A document older than the one
        this replica already follows (`revision`) is ignored.
        """
        entries = [e for e in document.get("versions", []) if isinstance(e, Mapping) and "version" in e]
        current = self._routes.get(model_id)
        problems: list[str] = []
        loaded: dict[str, ServedVersion] = {}
        for entry in entries:
            name, uri = str(entry["version"]), entry.get("model_uri")
            existing = None if current is None else current.versions.get(name)
            if existing is not None and existing.model_uri == uri:
                continue
            if uri is None:
                problems.append(f"{model_id} {name}: deployed from memory, cannot be restored")
                continue
            try:
                with request_context(model_id=model_id, version=name):
                    loaded[name] = self._served(model_id, name, None, str(uri), deployed_at=entry.get("deployed_at"))
            except DeployError as exc:
                problems.append(f"{model_id} {name}: {exc}")
        with self._control:
            if revision is not None and self._revisions.get(model_id, 0) > revision:
                return problems
            routing = self._routes.get(model_id) or empty_routing(model_id)
            versions: dict[str, ServedVersion] = {}
            for entry in entries:
                name = str(entry["version"])
                served = loaded.get(name) or routing.versions.get(name)
                if served is not None and served.model_uri == entry.get("model_uri"):
                    versions[name] = served
            if not versions and model_id not in self._routes:
                return problems
            problems.extend(_routing_problems(model_id, document, versions))
            dropped = [v.batcher for k, v in routing.versions.items() if k not in versions and v.batcher]
            routing = _routing_from_document(routing.with_changes(versions=versions), document)
            routing, found = self._follow_batching(routing, document.get("batching"))
            problems.extend(found)
            self._routes[model_id] = routing
            for batcher in dropped:
                batcher.close(timeout=0)
            if revision is not None:
                self._revisions[model_id] = revision
        return problems

    def applied_revisions(self) -> dict[str, int]:
        """The revision of each model's saved routing that this replica follows."""
        with self._control:
            return dict(self._revisions)

    # -- internals -------------------------------------------------------------------------

    def _routing(self, model_id: str) -> ModelRouting:
        routing = self._routes.get(model_id)
        if routing is None:
            raise NotFoundError(f"model {model_id!r} is not deployed; deployed models: {sorted(self._routes)}")
        return routing

    @staticmethod
    def _require_deployed(routing: ModelRouting, version: str) -> None:
        if version not in routing.versions:
            raise NotFoundError(
                f"{routing.model_id} has no deployed version {version!r}; deployed: {routing.sorted_versions()}"
            )

    def _publish(self, routing: ModelRouting, kind: ControlKind, version: str | None = None) -> None:
        """Persist the new snapshot, swap it in and tell the control listeners what `kind` of
        change it was (called with the control lock held).

        The save is compare-and-set against the revision this replica follows: if another
        replica saved this model's routing meanwhile, ConflictError, and nothing changes here
        (the other replica's routing arrives through the control sync; the caller tries again).
        """
        model_id = routing.model_id
        document = routing.to_document() if self._state_sink is not None or self._control_listeners else None
        if self._state_sink is not None and document is not None:
            self._revisions[model_id] = self._state_sink.save_deployment(
                model_id,
                document,
                expected_revision=self._revisions.get(model_id),
                updated_by=self.replica_id,
                updated_at=self._clock.now(),
            )
        self._routes[model_id] = routing
        if document is None:
            return
        change = ControlChange(routing.model_id, kind, version, self._clock.now(), document)
        for listener in self._control_listeners:
            try:
                listener.on_control_change(change)
            except Exception:  # a listener must never undo or block a control change
                log.exception("control listener failed", extra={"listener": type(listener).__name__})

    def _info(self, routing: ModelRouting) -> DeploymentInfo:
        versions = [
            VersionInfo(
                version=name,
                role=routing.role_of(name).value,
                weight=routing.weight_of(name),
                model_uri=routing.versions[name].model_uri,
                source=routing.versions[name].model.source,
                deployed_at=routing.versions[name].deployed_at,
                load_ms=routing.versions[name].load_ms,
                feature_names=list(routing.versions[name].model.feature_names),
                is_classifier=routing.versions[name].model.is_classifier,
            )
            for name in routing.sorted_versions()
        ]
        return DeploymentInfo(
            model_id=routing.model_id,
            active_version=routing.active,
            versions=versions,
            ab_test=split_info(routing),
            shadow=shadow_info(routing),
            previous_active=list(routing.previous_active),
            restorable=all(v.model_uri is not None for v in routing.versions.values()),
            batching=None
            if routing.batching is None
            else BatchingInfo(routing.batching.max_batch_size, routing.batching.max_wait_ms),
        )


def _routing_problems(model_id: str, document: Mapping[str, Any], versions: Mapping[str, ServedVersion]) -> list[str]:
    """What of a saved routing cannot be followed with the versions that loaded."""
    split = document.get("split")
    if split and not all(v in versions for v in split["versions"]):
        return [f"{model_id}: A/B test not restored, a version of it did not load"]
    return []


def _routing_from_document(routing: ModelRouting, document: Mapping[str, Any]) -> ModelRouting:
    """`routing` (its versions already chosen) with the active version, split, shadow and previous
    actives of a saved document, each taken only when its versions are there. When the active
    version did not load, the most recent earlier active one that did serves (else the first)."""
    versions = routing.versions
    previous = tuple(v for v in document.get("previous_active", []) if v in versions)
    active = next((v for v in (document.get("active"), *previous, *versions) if v in versions), None)
    split_doc, shadow_doc = document.get("split"), document.get("shadow")
    split = None
    if split_doc and all(v in versions for v in split_doc["versions"]):
        split = make_split(split_doc["versions"], split_doc["weights"], sticky=split_doc["sticky"])
    shadow = None
    if shadow_doc and shadow_doc["version"] in versions:
        shadow = ShadowConfig(shadow_doc["version"], shadow_doc["fraction"])
    references = {str(k): dict(v) for k, v in dict(document.get("references") or {}).items()}
    return routing.with_changes(
        active=active,
        previous_active=tuple(v for v in previous if v != active),
        split=split,
        shadow=shadow,
        references=MappingProxyType(references),
    )


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


def _activate(routing: ModelRouting, version: str) -> ModelRouting:
    if routing.active == version:
        return routing
    previous = routing.previous_active
    if routing.active is not None:
        previous = (routing.active, *(v for v in previous if v not in (routing.active, version)))
    else:
        previous = tuple(v for v in previous if v != version)
    shadow = routing.shadow if routing.shadow is None or routing.shadow.version != version else None
    return routing.with_changes(active=version, previous_active=previous, shadow=shadow)


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
