"""Adaptive batching: the batcher's timing on a manual clock, and the manager counting requests,
not batches, while concurrent callers each get their own rows back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock, SystemClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import InvalidInputError, ModelExecutionError
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.services import Services, build_services
from nba_mcp_deploy.serving.batching import BatchSettings, MicroBatcher
from nba_mcp_deploy.serving.breaker import BreakerState
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.ports import ModelOutput, PredictionBatch
from nba_mcp_deploy.serving.results import PredictionResult
from tests.conftest import NbaModels
from tests.serving.doubles import SumModel, rec
from tests.waiting import wait_for

M = "m"


class RecordingInfer:
    """A model call that records the size of every batch it is given (a model, not our code)."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[int] = []
        self.fail = fail

    def __call__(self, features: np.ndarray) -> ModelOutput:
        self.batches.append(len(features))
        if self.fail:
            raise RuntimeError("backend down")
        return ModelOutput(features.sum(axis=1))


def run_in_threads(calls: list[Callable[[], Any]]) -> list[Any]:
    """Start every call on its own thread at once; their results (or exceptions) in order."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


class Collector:
    """Gathers what the batcher hands back to each request."""

    def __init__(self) -> None:
        self.results: dict[int, tuple[ModelOutput | None, BaseException | None]] = {}
        self.lock = threading.Lock()

    def done(self, key: int) -> Callable[[ModelOutput | None, BaseException | None], None]:
        def deliver(output: ModelOutput | None, error: BaseException | None) -> None:
            with self.lock:
                self.results[key] = (output, error)

        return deliver


@pytest.mark.parametrize(
    ("size", "wait", "field"),
    [(1, 5.0, "max_batch_size"), (10_001, 5.0, "max_batch_size"), (True, 5.0, "max_batch_size"),
     (8, -1.0, "max_wait_ms"), (8, 1001.0, "max_wait_ms"), (8, float("nan"), "max_wait_ms"), (8, "5", "max_wait_ms")],
)  # fmt: skip
def test_settings_name_the_bad_field(size: Any, wait: Any, field: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        BatchSettings(size, wait)
    assert raised.value.field == field


def test_a_batch_waits_for_max_wait_on_the_clock_then_calls_the_model_once() -> None:
    clock = ManualClock()
    infer = RecordingInfer()
    batcher = MicroBatcher(infer, BatchSettings(8, 50.0), clock=clock, name="t")
    got = Collector()
    for i in range(3):
        assert batcher.submit(np.array([[float(i), 1.0]]), got.done(i))
    time.sleep(0.2)  # several real polls: the manual clock has not moved, so nothing runs yet
    assert infer.batches == [] and got.results == {}
    clock.advance(0.049)
    time.sleep(0.12)
    assert infer.batches == []
    clock.advance(0.001)
    wait_for(lambda: len(got.results) == 3)
    assert infer.batches == [3]
    for i in range(3):
        output, error = got.results[i]
        assert error is None and output is not None and output.predictions.tolist() == [i + 1.0]
    batcher.close(timeout=5)


def test_a_full_batch_runs_without_waiting_and_the_rest_forms_the_next() -> None:
    clock = ManualClock()  # never advanced: only full batches can run
    infer = RecordingInfer()
    batcher = MicroBatcher(infer, BatchSettings(4, 1000.0), clock=clock, name="t")
    got = Collector()
    for i in range(9):
        batcher.submit(np.array([[float(i), 0.0]]), got.done(i))
    wait_for(lambda: len(got.results) == 8)
    assert infer.batches == [4, 4]
    batcher.close(timeout=5)  # closing drains the ninth without waiting for the clock
    assert infer.batches == [4, 4, 1]
    assert [got.results[i][0].predictions.tolist() for i in range(9)] == [[float(i)] for i in range(9)]  # type: ignore[union-attr]
    stats = batcher.stats()
    assert (stats.model_calls, stats.requests, stats.rows, stats.largest_batch) == (3, 9, 9, 4)
    assert not batcher.submit(np.array([[1.0, 1.0]]), got.done(99))  # closed: the caller runs it itself


def test_multi_row_requests_are_kept_whole_and_sliced_back() -> None:
    clock = ManualClock()
    infer = RecordingInfer()
    batcher = MicroBatcher(infer, BatchSettings(5, 1000.0), clock=clock, name="t")
    got = Collector()
    batcher.submit(np.array([[1.0, 0.0], [2.0, 0.0]]), got.done(0))
    batcher.submit(np.array([[3.0, 0.0], [4.0, 0.0], [5.0, 0.0]]), got.done(1))
    batcher.submit(np.array([[6.0, 0.0]]), got.done(2))  # would make 6 rows: waits for the next batch
    wait_for(lambda: len(got.results) == 2)
    assert infer.batches == [5]
    assert got.results[0][0].predictions.tolist() == [1.0, 2.0]  # type: ignore[union-attr]
    assert got.results[1][0].predictions.tolist() == [3.0, 4.0, 5.0]  # type: ignore[union-attr]
    batcher.close(timeout=5)
    assert got.results[2][0].predictions.tolist() == [6.0]  # type: ignore[union-attr]


def test_a_failing_batch_fails_every_request_with_the_models_error() -> None:
    infer = RecordingInfer(fail=True)
    batcher = MicroBatcher(infer, BatchSettings(3, 1000.0), clock=ManualClock(), name="t")
    got = Collector()
    for i in range(3):
        batcher.submit(np.array([[1.0, 1.0]]), got.done(i))
    wait_for(lambda: len(got.results) == 3)
    assert infer.batches == [3]
    assert all(output is None and str(error) == "backend down" for output, error in got.results.values())
    assert batcher.stats().failed_calls == 1
    batcher.close(timeout=5)


def test_a_model_returning_the_wrong_number_of_rows_fails_the_batch() -> None:
    def short(features: np.ndarray) -> ModelOutput:
        return ModelOutput(features.sum(axis=1)[:-1])

    batcher = MicroBatcher(short, BatchSettings(2, 1000.0), clock=ManualClock(), name="t")
    got = Collector()
    batcher.submit(np.array([[1.0, 1.0]]), got.done(0))
    batcher.submit(np.array([[1.0, 1.0]]), got.done(1))
    wait_for(lambda: len(got.results) == 2)
    assert "returned 1 predictions for 2 rows" in str(got.results[0][1])
    batcher.close(timeout=5)


# -- through the manager ---------------------------------------------------------------------


class Observed:
    def __init__(self) -> None:
        self.batches: list[PredictionBatch] = []
        self.lock = threading.Lock()

    def observe(self, batch: PredictionBatch) -> None:
        with self.lock:
            self.batches.append(batch)


@pytest.fixture
def services(config: DeploymentConfig) -> Iterator[Services]:
    built = build_services(config.replace(breaker_minimum_calls=10, breaker_window_size=100), clock=SystemClock())
    yield built
    built.close()


def test_concurrent_callers_each_get_their_own_row_in_fewer_model_calls(services: Services) -> None:
    manager = services.manager
    model = SumModel()
    manager.deploy_model(M, "v1.0", model_instance=model)
    info = manager.set_batching(M, max_batch_size=16, max_wait_ms=200.0)
    assert info.batching is not None and info.batching.max_batch_size == 16
    warmups = model.calls
    results = run_in_threads([lambda i=i: manager.predict(M, [rec(i, 1000.0)]) for i in range(32)])
    assert all(isinstance(r, PredictionResult) for r in results), results
    assert [r.predictions for r in results] == [[i + 1000.0] for i in range(32)]
    assert len({r.request_id for r in results}) == 32
    calls = model.calls - warmups
    assert 2 <= calls < 32
    version = manager.health_check(M).models[0].versions[0]
    assert version.metrics.requests == 32 and version.breaker.calls_in_window == 32
    assert version.batching is not None
    assert (version.batching.model_calls, version.batching.requests) == (calls, 32)
    assert services.monitoring.get(M).logged == 32  # each request logged, like an unbatched predict


def test_every_request_is_observed_with_its_own_row(config: DeploymentConfig) -> None:
    observed = Observed()
    manager = ModelServingManager(config, observer=observed)
    manager.deploy_model(M, "v1.0", model_instance=SumModel())
    manager.set_batching(M, 8, 200.0)
    results = run_in_threads([lambda i=i: manager.predict(M, [rec(i, 0.0)], request_key=f"k{i}") for i in range(8)])
    by_id = {b.request_id: b for b in observed.batches}
    assert len(by_id) == 8
    for i, result in enumerate(results):
        batch = by_id[result.request_id]
        assert batch.features.tolist() == [[float(i), 0.0]]
        assert batch.predictions is not None and batch.predictions.tolist() == [float(i)]
        assert batch.request_key == f"k{i}" and batch.error is None
    manager.close()


def test_the_breaker_counts_requests_not_batches(services: Services) -> None:
    manager = services.manager
    model = SumModel()
    manager.deploy_model(M, "v1.0", model_instance=model)
    manager.set_batching(M, 20, 500.0)
    model.failing = True
    results = run_in_threads([lambda: manager.predict(M, [rec()]) for _ in range(20)])
    assert all(isinstance(r, ModelExecutionError) for r in results), results
    assert all("model backend unavailable" in str(r) for r in results)
    version = manager.health_check(M).models[0].versions[0]
    assert version.metrics.requests == 20 and version.metrics.errors == 20
    assert version.batching is not None and version.batching.model_calls < 20
    # 20 failed requests reach minimum_calls (10): the breaker opened on requests, not on 1-2 batches.
    assert version.breaker.state is BreakerState.OPEN


def test_submit_predict_completes_a_future_from_the_batch(services: Services) -> None:
    manager = services.manager
    manager.deploy_model(M, "v1.0", model_instance=SumModel())
    assert manager.submit_predict(M, [rec(1, 2)]).result(timeout=0).predictions == [3.0]  # no batching: done now
    manager.set_batching(M, 4, 1000.0)
    futures = [manager.submit_predict(M, [rec(i, 0)]) for i in range(4)]
    assert [f.result(timeout=10).predictions for f in futures] == [[float(i)] for i in range(4)]
    with pytest.raises(InvalidInputError):
        manager.submit_predict(M, [{"a": 1.0}])  # input errors raise at once, not through the future


def test_requests_larger_than_a_batch_call_the_model_alone(services: Services) -> None:
    manager = services.manager
    model = SumModel()
    manager.deploy_model(M, "v1.0", model_instance=model)
    manager.set_batching(M, 2, 1000.0)
    started = time.monotonic()
    result = manager.predict(M, [rec(1, 1), rec(2, 2), rec(3, 3)])
    assert result.predictions == [2.0, 4.0, 6.0]
    assert time.monotonic() - started < 0.5  # did not wait for the 1 s batch window
    batching = manager.health_check(M).models[0].versions[0].batching
    assert batching is not None and batching.requests == 0


def test_batching_applies_to_later_versions_clears_and_survives_a_restart(
    config: DeploymentConfig, nba: NbaModels
) -> None:
    services = build_services(config)
    manager = services.manager
    manager.deploy_model(M, "v1.0", model_uri=str(nba.skops_file))
    manager.set_batching(M, 32, 2.0)
    manager.deploy_model(M, "v2.0", model_uri=str(nba.joblib_file), set_active=False)
    assert all(v.batcher is not None for v in manager.routing(M).versions.values())
    record = nba.records(1)
    assert manager.predict(M, record, version="v2.0").version == "v2.0"
    services.close()
    restarted = build_services(config)
    try:
        info = restarted.manager.get_deployment(M)
        assert info.batching is not None and (info.batching.max_batch_size, info.batching.max_wait_ms) == (32, 2.0)
        assert restarted.manager.predict(M, record).version == "v1.0"
        restarted.manager.undeploy(M, "v2.0")
        old = restarted.manager.routing(M).versions["v1.0"].batcher
        info = restarted.manager.clear_batching(M)
        assert info.batching is None and restarted.manager.batching_of(M) is None
        assert restarted.manager.routing(M).versions["v1.0"].batcher is None
        assert old is not None and not old.submit(np.zeros((1, 8)), lambda o, e: None)
        assert restarted.manager.predict(M, record).version == "v1.0"
    finally:
        restarted.close()


def test_real_nba_model_batched_answers_match_the_model(services: Services, nba: NbaModels) -> None:
    manager = services.manager
    manager.deploy_model(M, "v1.0", model_uri=str(nba.skops_file))
    manager.set_batching(M, 32, 100.0)
    records = nba.records(32)
    results = run_in_threads([lambda r=r: manager.predict(M, [r]) for r in records])
    expected = nba.trained.boosting.predict_proba(nba.trained.holdout[FEATURES].iloc[:32])
    got = np.array([r.probabilities[0] for r in results])
    np.testing.assert_allclose(got, expected, rtol=1e-12)
