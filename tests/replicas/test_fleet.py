"""A/B results and canary guards add up the traffic of every replica through the store, and a
canary's state lives there: readable on every replica, resumed by another when its replica dies."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.errors import ConflictError
from nba_mcp_deploy.experiments.canary import CanaryPhase
from nba_mcp_deploy.experiments.canary_state import HEARTBEAT_SEC, TAKEOVER_HEARTBEATS
from nba_mcp_deploy.registry.registry import ModelRegistry
from tests.conftest import NbaModels
from tests.waiting import wait_for

MODEL = "win_prob"


def _deployed_on_both(pair, nba: NbaModels) -> None:
    first, second = pair
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    first.manager.deploy_model(MODEL, "v2.0", model_uri=str(nba.joblib_file), set_active=False)
    wait_for(lambda: second.manager.is_deployed(MODEL, "v2.0"), 60)


def test_ab_results_count_the_requests_every_replica_served(pair, nba: NbaModels):
    first, second = pair
    _deployed_on_both(pair, nba)
    first.manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.5, 0.5], sticky=True)
    wait_for(lambda: second.manager.routing(MODEL).split is not None, 5)
    records = nba.records(80)
    for i, record in enumerate(records[:30]):
        first.manager.predict(MODEL, [record], request_key=f"fan-{i}")
    for i, record in enumerate(records[30:]):
        second.manager.predict(MODEL, [record], request_key=f"fan-{30 + i}")
    second.traffic.flush_now()
    report = first.experiments.ab_test_results(MODEL)
    assert report.variant_a.requests + report.variant_b.requests == 30  # this replica's own
    assert [v.version for v in report.fleet] == ["v1.0", "v2.0"]
    assert sum(v.requests for v in report.fleet) == 80
    assert all(v.errors == 0 and v.error_rate == 0 for v in report.fleet)
    assert all(v.latency_p95_ms is not None and v.latency_p95_ms >= v.latency_p50_ms for v in report.fleet)
    assert any("every replica together served 80" in note for note in report.notes)


def test_a_canary_advances_on_traffic_another_replica_served(pair, nba: NbaModels):
    first, second = pair
    _deployed_on_both(pair, nba)
    status = first.experiments.start_canary(
        MODEL, "v2.0", steps=[0.5, 1.0], min_requests_per_step=20, max_latency_ratio=1000.0
    )
    assert status.step.index == 0
    wait_for(lambda: second.manager.routing(MODEL).split is not None, 5)
    for i, record in enumerate(nba.records(120)):  # all on the second replica
        second.manager.predict(MODEL, [record], request_key=f"game-{i}")
    second.traffic.flush_now()
    status = first.experiments.canaries.evaluate(MODEL, with_quality=False)
    assert status.phase is CanaryPhase.RUNNING
    assert status.step.index == 1, status.decision_reason  # the first step passed on the other replica's traffic
    wait_for(lambda: second.manager.routing(MODEL).split.weights == (0.0, 1.0), 5)


def test_a_canary_is_visible_everywhere_and_resumed_when_its_replica_dies(pair, nba: NbaModels):
    first, second = pair
    _deployed_on_both(pair, nba)
    first.experiments.start_canary(MODEL, "v2.0", steps=[0.5, 1.0], min_requests_per_step=20, max_latency_ratio=1000.0)
    seen = second.experiments.canary_status(MODEL)  # from the store: the second replica does not run it
    assert (seen.phase, seen.candidate_version, seen.step.index) == (CanaryPhase.RUNNING, "v2.0", 0)
    assert second.experiments.canaries.running() == []
    with pytest.raises(ConflictError, match="already running on another replica"):
        second.experiments.start_canary(MODEL, "v2.0")

    first.experiments.close()  # the replica running the canary stops writing heartbeats, as if it died
    took = wait_for(lambda: second.experiments.canaries.running() == [MODEL], 20)
    assert took <= 3 * TAKEOVER_HEARTBEATS * HEARTBEAT_SEC
    records = nba.records(200)
    for step in (0, 1):  # each step's traffic, on the replica that took over, then its evaluation
        for i, record in enumerate(records[step * 100 : (step + 1) * 100]):
            second.manager.predict(MODEL, [record], request_key=f"game-{step}-{i}")
        status = second.experiments.canaries.evaluate(MODEL, with_quality=False)
        assert status.step is None or status.step.index >= step, status.decision_reason
    wait_for(lambda: second.experiments.canary_status(MODEL).phase is CanaryPhase.PROMOTED, 10)
    status = second.experiments.canary_status(MODEL)
    assert [e.kind.value for e in status.history] == ["canary_started", "step_advanced", "promoted"]
    # The first follows the routing: the promotion's whole end state at once, never a part of it.
    wait_for(lambda: _promoted_in_serving(first), 5)
    assert first.experiments.canary_status(MODEL).phase is CanaryPhase.PROMOTED  # and reads the state


def test_a_replica_taking_over_finishes_a_promotion_its_replica_died_in(pair, nba: NbaModels):
    first, second = pair
    _deployed_on_both(pair, nba)
    for version in ("v1.0", "v2.0"):
        first.registry.register_model(MODEL, version, stage="staging")
    first.registry.promote_model(MODEL, "v1.0", "production")
    first.experiments.start_canary(MODEL, "v2.0", steps=[1.0], min_requests_per_step=20)  # its last step
    first.experiments.close()
    # The first replica's promotion reached the registry; it died before serving followed (a
    # registry without the serving listener commits the same change).
    ModelRegistry(first.registry.store, clock=first.clock).promote_model(MODEL, "v2.0", "production", actor="canary")
    store = second.registry.store
    before = store.deployment_revisions()[MODEL]

    wait_for(lambda: second.experiments.canary_status(MODEL).phase is CanaryPhase.PROMOTED, 20)

    status = second.experiments.canary_status(MODEL)
    assert [e.kind.value for e in status.history] == ["canary_started", "promoted"]
    assert store.deployment_revisions()[MODEL] == before + 1  # serving converged in one revision
    assert second.registry.get_production_model(MODEL).version == "v2.0"
    wait_for(lambda: _promoted_in_serving(first) and _promoted_in_serving(second), 5)


def test_a_replica_taking_over_carries_on_from_a_step_its_replica_set_but_did_not_record(pair, nba: NbaModels):
    first, second = pair
    _deployed_on_both(pair, nba)
    first.experiments.start_canary(MODEL, "v2.0", steps=[0.5, 1.0], min_requests_per_step=20)
    first.experiments.close()
    first.manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.0, 1.0], sticky=True)  # its advance, unrecorded

    wait_for(lambda: second.experiments.canaries.running() == [MODEL], 20)

    status = second.experiments.canary_status(MODEL)
    assert (status.phase, status.step.index, status.step.weight) == (CanaryPhase.RUNNING, 1, 1.0)
    assert [e.kind.value for e in status.history] == ["canary_started", "step_advanced"]
    assert second.manager.routing(MODEL).split.weights == (0.0, 1.0)  # traffic left as it was


def _promoted_in_serving(replica) -> bool:
    """Whether the replica serves the promoted state; AssertionError on half of it."""
    routing = replica.manager.routing(MODEL)
    assert routing.active != "v2.0" or routing.split is None, f"v2.0 active beside the split {routing.split}"
    return routing.active == "v2.0"
