"""The sparkline history: one point per version per sample, errors since the previous point,
bounded per version, spaced, forgetting undeployed versions; and its timer thread."""

from __future__ import annotations

import threading

import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.dashboard.history import HealthSampler, MetricsHistory
from nba_mcp_deploy.errors import ModelExecutionError
from nba_mcp_deploy.serving.manager import ModelServingManager
from tests.serving.doubles import SumModel


@pytest.fixture
def model() -> SumModel:
    return SumModel()


@pytest.fixture
def manager(clock: ManualClock, model: SumModel) -> ModelServingManager:
    served = ModelServingManager(DeploymentConfig(breaker_minimum_calls=100, breaker_window_size=100), clock=clock)
    served.deploy_model("m", "v1.0", model_instance=model)
    return served


def test_points_carry_the_errors_since_the_previous_one(
    manager: ModelServingManager, model: SumModel, clock: ManualClock
) -> None:
    history = MetricsHistory(capacity=5, min_spacing_sec=1.0)
    history.sample(manager.health_check())
    first = history.series("m", "v1.0")
    assert len(first) == 1 and first[0].requests == 0 and first[0].error_rate is None and first[0].p95_ms is None
    for failing in (False, False, False, True):
        model.failing = failing
        try:
            manager.predict("m", [{"a": 1, "b": 2}])
        except ModelExecutionError:
            assert failing
    clock.advance(2)
    history.sample(manager.health_check())
    last = history.series("m", "v1.0")[-1]
    assert (last.requests, last.error_rate) == (4, 0.25) and last.p95_ms is not None
    clock.advance(0.5)
    history.sample(manager.health_check())  # too soon: skipped
    assert len(history.series("m", "v1.0")) == 2
    for _ in range(10):
        clock.advance(2)
        history.sample(manager.health_check())
    points = history.series("m", "v1.0")
    assert len(points) == 5 and points[-1].requests == 0 and points[-1].error_rate is None


def test_undeployed_versions_are_forgotten(manager: ModelServingManager, clock: ManualClock) -> None:
    history = MetricsHistory()
    manager.deploy_model("m", "v2.0", model_instance=SumModel())
    history.sample(manager.health_check())
    manager.undeploy("m", "v1.0")
    clock.advance(5)
    history.sample(manager.health_check("m"), complete=False)  # one model's report forgets nothing
    assert history.series("m", "v1.0")
    history.sample(manager.health_check())
    assert history.series("m", "v1.0") == () and len(history.series("m", "v2.0")) == 2


def test_the_sampler_samples_until_closed() -> None:
    calls = threading.Semaphore(0)
    sampler = HealthSampler(calls.release, interval_sec=0.01)
    sampler.start()
    assert all(calls.acquire(timeout=5) for _ in range(3))
    sampler.close()
    assert sampler._thread is not None and not sampler._thread.is_alive()
    while calls.acquire(blocking=False):  # what was sampled before the close
        pass
    assert not calls.acquire(timeout=0.1)  # nothing after it
    idle_calls = threading.Semaphore(0)
    HealthSampler(idle_calls.release, interval_sec=0).start()  # 0: no sampling at all
    assert not idle_calls.acquire(timeout=0.2)


def test_capacity_must_hold_a_line() -> None:
    with pytest.raises(ValueError, match="capacity"):
        MetricsHistory(capacity=1)
