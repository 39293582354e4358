"""The progressive canary on real serving (build_services), tiny models and a ManualClock."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError, DeployError, InvalidInputError, ModelExecutionError, NotFoundError
from nba_mcp_deploy.experiments import CanaryPhase, CanaryStatus, EventKind, ExperimentEvent
from nba_mcp_deploy.services import Services, build_services
from tests.experiments.conftest import M, install_coins
from tests.experiments.doubles import Coin, record
from tests.waiting import wait_for


class Recorder:
    """A listener that keeps every event and the thread it arrived on."""

    def __init__(self) -> None:
        self.events: list[ExperimentEvent] = []
        self.threads: list[str] = []

    def on_experiment_event(self, event: ExperimentEvent) -> None:
        self.events.append(event)
        self.threads.append(threading.current_thread().name)


def status(services: Services) -> CanaryStatus:
    return services.experiments.canary_status(M)


def drive(
    services: Services,
    limit: int,
    *,
    seed: int = 0,
    before_each: Callable[[CanaryStatus], None] | None = None,
    until: Callable[[CanaryStatus], bool] | None = None,
) -> list[tuple[str, bool]]:
    """Send requests one at a time while the canary runs (and `until` is false); (version, failed) each.

    After each request it waits for the evaluations that request asked for (the predict path
    only wakes the background evaluator), so the count of requests to a decision is exact.
    """
    rng = np.random.default_rng(seed)
    served: list[tuple[str, bool]] = []
    for _ in range(limit):
        current = status(services)
        if current.phase is not CanaryPhase.RUNNING or (until is not None and until(current)):
            break
        if before_each is not None:
            before_each(current)
        try:
            served.append((services.manager.predict(M, [record(rng)]).version, False))
        except ModelExecutionError as exc:
            served.append(("v2.0" if " v2.0 " in str(exc) else "v1.0", True))
        assert services.experiments.wait_idle(5)
    return served


def test_a_healthy_canary_ends_in_production(
    services: Services, two_coins: tuple[Coin, Coin], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nba_mcp_deploy")
    listener = Recorder()
    services.experiments.add_listener(listener)
    services.experiments.start_canary(M, "v2.0", min_requests_per_step=40)
    assert services.manager.get_deployment(M).ab_test is not None

    served = drive(services, 5000)

    final = status(services)
    assert final.phase is CanaryPhase.PROMOTED, final.reason
    assert "v2.0 is promoted to production in the registry" in final.reason
    assert services.registry.get_production_model(M).version == "v2.0"
    assert services.registry.get_model(M, "v1.0").stage.value == "archived"
    promotion = services.registry.get_history(M, "v2.0")[-1]
    assert promotion.actor == "canary" and promotion.to_stage is not None and promotion.to_stage.value == "production"
    deployment = services.manager.get_deployment(M)
    assert deployment.active_version == "v2.0" and deployment.ab_test is None
    kinds = [e.kind for e in final.history]
    assert kinds == [EventKind.CANARY_STARTED, *[EventKind.STEP_ADVANCED] * 3, EventKind.PROMOTED]
    assert [e.weight for e in final.history] == [0.05, 0.25, 0.5, 1.0, 1.0]
    for event in final.history[1:]:  # every step passed on its guard values
        guards = {g.name: g for g in event.guards}
        assert guards["error_rate"].status.value == "pass" and guards["breaker"].value == "closed"
    assert sum(version == "v2.0" for version, _ in served) >= 4 * 40
    assert listener.events == list(final.history)
    assert set(listener.threads[1:]) == {"canary-evaluator"}  # decided off the request threads
    promoted = [r for r in caplog.records if r.getMessage() == "canary promoted"]
    assert promoted and promoted[0].stable_version == "v1.0" and promoted[0].weight == 1.0  # type: ignore[attr-defined]
    assert services.manager.predict(M, [record(np.random.default_rng(9))]).version == "v2.0"


@pytest.fixture
def lenient_breaker(experiment_config: DeploymentConfig, clock: ManualClock) -> Iterator[Services]:
    """Services whose breakers open only at 50% failures: the canary's own guards must act."""
    built = build_services(experiment_config.replace(error_threshold=0.5), clock=clock)
    yield built
    built.close()


def test_a_candidate_failing_at_step_2_is_rolled_back_within_the_configured_requests(
    lenient_breaker: Services,
) -> None:
    services = lenient_breaker
    _, candidate = install_coins(services)
    history_before = services.registry.get_history(M)
    services.experiments.start_canary(M, "v2.0", min_requests_per_step=50, max_error_rate=0.1)

    def fail_from_step_2(current: CanaryStatus) -> None:
        candidate.failing = current.step.index >= 1

    served = drive(services, 5000, before_each=fail_from_step_2)

    final = status(services)
    assert final.phase is CanaryPhase.ROLLED_BACK
    assert final.reason.startswith("rolled back at step 2 (25%): error_rate: 6 errors")
    failing_calls = [failed for version, failed in served if version == "v2.0" and failed]
    # More than 10% of a 50-request step: the 6th error fails it, well within the step's 50.
    assert len(failing_calls) == 6
    assert final.history[-1].kind is EventKind.ROLLED_BACK and final.history[-1].weight == 0.0
    assert {g.name: g.status.value for g in final.guards}["error_rate"] == "fail"
    assert services.registry.get_history(M) == history_before  # the registry is unchanged
    assert services.registry.get_production_model(M).version == "v1.0"
    assert services.registry.get_model(M, "v2.0").stage.value == "staging"
    deployment = services.manager.get_deployment(M)
    assert deployment.active_version == "v1.0" and deployment.ab_test is None
    rng = np.random.default_rng(1)
    assert {services.manager.predict(M, [record(rng)]).version for _ in range(50)} == {"v1.0"}


def test_an_open_breaker_rolls_back_at_once(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    _, candidate = two_coins
    services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=200, max_error_rate=0.5)
    drive(services, 60)  # the breaker's window fills with successes (it trips from 20 calls on)
    candidate.failing = True
    drive(services, 500)
    final = status(services)
    assert (
        final.phase is CanaryPhase.ROLLED_BACK and ": breaker: the candidate's circuit breaker is open" in final.reason
    )
    assert {g.name: g.status.value for g in final.guards}["error_rate"] == "waiting"  # 50% was not reached


def test_outcomes_showing_a_worse_candidate_roll_it_back_on_the_timer(services: Services) -> None:
    services.manager.deploy_model(M, "v1.0", model_instance=Coin(0.75))
    services.manager.deploy_model(M, "v2.0", model_instance=Coin(0.35), set_active=False)
    services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=100_000)
    rng = np.random.default_rng(3)
    outcomes = {}
    for _ in range(300):
        features = record(rng)
        outcomes[services.manager.predict(M, [features]).prediction_ids[0]] = features["truth"]
    assert status(services).phase is CanaryPhase.RUNNING  # nothing says it is worse yet
    services.monitoring.get(M).log_actuals(outcomes)  # the games end; no more traffic needed

    wait_for(lambda: status(services).phase is not CanaryPhase.RUNNING, 5.0)

    final = status(services)
    assert final.phase is CanaryPhase.ROLLED_BACK and "accuracy" in final.reason
    accuracy = {g.name: g for g in final.guards}["accuracy"]
    assert accuracy.status.value == "fail" and isinstance(accuracy.value, float) and accuracy.value < -0.2
    assert services.manager.get_deployment(M).ab_test is None


def test_the_timer_ends_a_bake_time_without_traffic(
    services: Services, two_coins: tuple[Coin, Coin], clock: ManualClock
) -> None:
    services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=20, min_step_seconds=60)
    drive(services, 200, until=lambda s: s.step.candidate_requests >= 20)
    held = status(services)
    assert held.step.index == 0 and held.step.candidate_requests >= 20
    assert (
        held.decision is not None
        and held.decision.value == "hold"
        and "the step lasts 60 s more" in held.decision_reason
    )

    clock.advance(61)
    wait_for(lambda: status(services).step.index == 1, 5.0)

    assert services.manager.get_deployment(M).ab_test.weights == [0.0, 1.0]  # type: ignore[union-attr]


def test_abort_sends_traffic_back_and_leaves_the_registry(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    history_before = services.registry.get_history(M)
    services.experiments.start_canary(M, "v2.0", min_requests_per_step=30)
    drive(services, 100)
    aborted = services.experiments.abort_canary(M, "pager went off", actor="oncall")
    assert aborted.phase is CanaryPhase.ABORTED and aborted.step.weight == 0.0
    assert aborted.reason == "aborted by oncall: pager went off; all traffic back on v1.0"
    assert aborted.history[-1].actor == "oncall"
    assert services.manager.get_deployment(M).ab_test is None
    assert services.registry.get_history(M) == history_before
    with pytest.raises(ConflictError, match="is not running"):
        services.experiments.abort_canary(M)
    again = services.experiments.start_canary(M, "v2.0")
    assert again.phase is CanaryPhase.RUNNING and len(again.history) == 1


def test_changing_traffic_behind_the_canary_stops_it_and_leaves_traffic_alone(
    services: Services, two_coins: tuple[Coin, Coin]
) -> None:
    services.experiments.start_canary(M, "v2.0")
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.2, 0.8])
    wait_for(lambda: status(services).phase is not CanaryPhase.RUNNING, 5.0)
    final = status(services)
    assert final.phase is CanaryPhase.ABORTED
    assert "traffic was changed outside the canary (the candidate's weight is now 0.8)" in final.reason
    assert services.manager.get_deployment(M).ab_test.weights == [0.2, 0.8]  # type: ignore[union-attr]


def test_a_candidate_unknown_to_the_registry_is_activated_in_serving_only(services: Services) -> None:
    services.manager.deploy_model(M, "v1.0", model_instance=Coin(0.6))
    services.manager.deploy_model(M, "v2.0", model_instance=Coin(0.6), set_active=False)
    started = services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=10)
    assert started.registry_plan.startswith("not in the registry")
    drive(services, 500)
    final = status(services)
    assert final.phase is CanaryPhase.PROMOTED and "active in serving (not in the registry)" in final.reason
    assert services.manager.get_deployment(M).active_version == "v2.0"
    assert services.registry.list_models() == []


@pytest.mark.parametrize("registered", [True, False], ids=["in-the-registry", "serving-only"])
def test_the_end_of_a_canary_is_one_routing_revision(services: Services, registered: bool) -> None:
    if registered:
        install_coins(services)
    else:
        services.manager.deploy_model(M, "v1.0", model_instance=Coin(0.6))
        services.manager.deploy_model(M, "v2.0", model_instance=Coin(0.6), set_active=False)
    store = services.registry.store
    services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=10)
    drive(services, 500, until=lambda s: s.step.index == 1)
    before = store.deployment_revisions()[M]

    drive(services, 500)

    assert status(services).phase is CanaryPhase.PROMOTED
    assert store.deployment_revisions()[M] == before + 1  # activated and the split ended together
    saved = store.load_deployments()[M]
    assert (saved["active"], saved["split"]) == ("v2.0", None)


def test_a_failed_promotion_sends_traffic_back(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=10)
    services.registry.delete_model(M, "v2.0")  # someone removes the candidate from the registry meanwhile
    drive(services, 500)
    final = status(services)
    assert final.phase is CanaryPhase.FAILED and final.reason.startswith("every step passed but the promotion failed")
    deployment = services.manager.get_deployment(M)
    assert deployment.active_version == "v1.0" and deployment.ab_test is None


def test_a_listener_that_raises_is_skipped(services: Services, two_coins: tuple[Coin, Coin]) -> None:
    class Broken:
        def on_experiment_event(self, event: ExperimentEvent) -> None:
            raise RuntimeError("tracking server down")

    good = Recorder()
    services.experiments.add_listener(Broken())
    services.experiments.add_listener(good)
    services.experiments.start_canary(M, "v2.0", steps=[0.5, 1.0], min_requests_per_step=10)
    drive(services, 500)
    assert status(services).phase is CanaryPhase.PROMOTED
    assert [e.kind for e in good.events][-1] is EventKind.PROMOTED
    mirrored = json.loads(json.dumps(good.events[-1].to_dict()))  # what an MLflow adapter would log
    assert mirrored["kind"] == "promoted" and mirrored["guards"][0]["name"] == "breaker"


@pytest.mark.parametrize(
    ("arguments", "error", "fragments"),
    [
        ({"candidate_version": "v9.0"}, NotFoundError, ["no deployed version 'v9.0'", "set_active=false"]),
        ({"candidate_version": "v1.0"}, InvalidInputError, ["candidate_version", "already the active version"]),
        ({"candidate_version": "nine"}, InvalidInputError, ["candidate_version", "'v' followed by"]),
        ({"model_id": "ghost"}, NotFoundError, ["'ghost' is not deployed"]),
        ({"steps": [0.5, 0.25, 1.0]}, InvalidInputError, ["steps", "increase strictly"]),
        ({"steps": [0.1, 0.5]}, InvalidInputError, ["steps", "last step must be 1.0"]),
        ({"max_error_rate": -0.1}, InvalidInputError, ["max_error_rate", "-0.1"]),
        ({"max_latency_ratio": 0.5}, InvalidInputError, ["max_latency_ratio", ">= 1"]),
        ({"min_requests_per_step": 0}, InvalidInputError, ["min_requests_per_step"]),
    ],
)
def test_bad_starts_are_refused_and_change_nothing(
    services: Services, two_coins: tuple[Coin, Coin], arguments: dict, error: type[DeployError], fragments: list[str]
) -> None:
    call = {"model_id": M, "candidate_version": "v2.0", **arguments}
    with pytest.raises(error) as caught:
        services.experiments.start_canary(**call)
    for fragment in fragments:
        assert fragment in str(caught.value)
    assert services.manager.get_deployment(M).ab_test is None


def test_starts_that_contradict_the_current_state_are_conflicts(
    services: Services, two_coins: tuple[Coin, Coin]
) -> None:
    services.manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])
    with pytest.raises(ConflictError, match=r"already has an A/B split.*clear_ab_test first"):
        services.experiments.start_canary(M, "v2.0")
    services.manager.clear_ab_test(M)
    services.experiments.start_canary(M, "v2.0")
    with pytest.raises(ConflictError, match="already running; abort_canary it first"):
        services.experiments.start_canary(M, "v2.0")
    with pytest.raises(NotFoundError, match="no canary has run for 'other'"):
        services.experiments.canary_status("other")
