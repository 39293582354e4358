"""Many threads predicting while versions deploy, weights change and versions are undeployed."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import build_services
from nba_mcp_deploy.serving.metrics import VersionMetrics
from tests.serving.doubles import SumModel, rec

THREADS = 8
CALLS_PER_THREAD = 1500
MIN_CYCLES = 3


def test_counts_add_up_exactly_under_concurrent_control_changes(config: DeploymentConfig) -> None:
    services = build_services(config)
    manager = services.manager
    manager.deploy_model("m", "v1.0", model_instance=SumModel(0))
    manager.deploy_model("m", "v2.0", model_instance=SumModel(0), set_active=False)
    metrics: dict[str, VersionMetrics] = {}
    metrics_lock = threading.Lock()

    def remember_metrics() -> None:
        with metrics_lock:
            for name, served in manager.routing("m").versions.items():
                metrics.setdefault(name, served.metrics)

    remember_metrics()
    tallies = [Counter() for _ in range(THREADS)]
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS + 1)
    done = threading.Event()
    cycles = [0]

    def client(index: int) -> None:
        rng = random.Random(index)
        start.wait()
        try:
            call = 0
            # Keep predicting until the operator has cycled versions a few times (a slow machine
            # must not end the traffic before the control changes it is meant to overlap).
            while call < CALLS_PER_THREAD or (cycles[0] < MIN_CYCLES and call < 50 * CALLS_PER_THREAD):
                call += 1
                key = f"user-{rng.randrange(50)}" if call % 3 == 0 else None
                result = manager.predict("m", [rec(call, index)], request_key=key)
                assert result.predictions == [call + index]
                tallies[index][result.version] += 1
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    def operator() -> None:
        start.wait()
        step = 0
        try:
            while not done.is_set():
                version = f"v3.{step}"
                manager.deploy_model("m", version, model_instance=SumModel(0), set_active=False)
                remember_metrics()
                manager.setup_ab_test("m", ["v1.0", "v2.0", version], [0.5, 0.25, 0.25], sticky=step % 2 == 0)
                manager.setup_ab_test("m", ["v1.0", version], [0.1, 0.9])
                manager.set_active_version("m", "v2.0" if step % 2 else "v1.0")
                manager.clear_ab_test("m")
                manager.undeploy("m", version)
                step += 1
                cycles[0] = step
        except BaseException as exc:
            failures.append(exc)

    clients = [threading.Thread(target=client, args=(i,)) for i in range(THREADS)]
    control = threading.Thread(target=operator)
    for thread in [*clients, control]:
        thread.start()
    for thread in clients:
        thread.join(timeout=120)
    done.set()
    control.join(timeout=30)
    services.close()
    assert not failures, failures[:3]
    served = sum(tallies, Counter())
    total = sum(served.values())
    assert total >= THREADS * CALLS_PER_THREAD
    undeployed_versions = [v for v in metrics if v.startswith("v3.")]
    assert len(undeployed_versions) >= MIN_CYCLES, "the operator should have cycled several versions during the run"
    for version, version_metrics in metrics.items():
        snapshot = version_metrics.snapshot()
        assert snapshot.requests == served[version], version
        assert snapshot.errors == 0
    assert sum(m.snapshot().requests for m in metrics.values()) == total


@pytest.mark.parametrize("threads", [16])
def test_breaker_counts_are_exact_under_threads(config: DeploymentConfig, threads: int) -> None:
    services = build_services(config.replace(breaker_window_size=1000, breaker_minimum_calls=1000))
    manager = services.manager
    model = SumModel(0)
    manager.deploy_model("m", "v1.0", model_instance=model)
    barrier = threading.Barrier(threads)

    def hammer() -> None:
        barrier.wait()
        for _ in range(50):
            manager.predict("m", [rec()])

    workers = [threading.Thread(target=hammer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    version = manager.health_check("m").models[0].versions[0]
    assert version.breaker.calls_in_window == threads * 50
    assert version.metrics.requests == threads * 50
    assert model.calls == threads * 50 + 2  # plus the two warm-up calls
    services.close()
