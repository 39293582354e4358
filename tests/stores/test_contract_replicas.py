"""The contract of what replicas share through a store: revisions, traffic rows, canary records."""

from __future__ import annotations

import threading

import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.registry.shared_state import CanaryRecord, TrafficRow


def test_deployment_revisions_count_saves_and_guard_compare_and_set(store):
    assert store.deployment_revisions() == {}
    assert store.save_deployment("m", {"active": "v1"}, expected_revision=0, updated_by="r1", updated_at=5.0) == 1
    assert store.save_deployment("m", {"active": "v2"}) == 2  # no expectation: always saved
    with pytest.raises(ConflictError, match="expected revision 1, it is at revision 2"):
        store.save_deployment("m", {"active": "v3"}, expected_revision=1)
    with pytest.raises(ConflictError, match="none is saved"):
        store.save_deployment("other", {}, expected_revision=4)
    assert store.save_deployment("m", {"active": "v3"}, expected_revision=2, updated_by="r2", updated_at=6.0) == 3
    assert store.deployment_revisions() == {"m": 3}
    record = store.deployment_records()["m"]
    assert (record.document, record.revision, record.updated_by, record.updated_at) == ({"active": "v3"}, 3, "r2", 6.0)
    assert store.load_deployments() == {"m": {"active": "v3"}}


def test_of_two_saves_expecting_the_same_revision_exactly_one_wins(store):
    store.save_deployment("m", {"n": 0})
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def save(n: int) -> None:
        barrier.wait()
        try:
            store.save_deployment("m", {"n": n}, expected_revision=1)
            outcomes.append("saved")
        except ConflictError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused"] * 7 + ["saved"]
    assert store.deployment_revisions() == {"m": 2}


def test_traffic_rows_are_replaced_per_instance_and_pruned_by_age(store):
    def row(instance: str, version: str, requests: int, at: float) -> TrafficRow:
        return TrafficRow(instance, instance.split("/")[0], "m", version, {"requests": requests}, at)

    store.save_traffic([row("r1/a", "v1", 5, 10.0), row("r2/b", "v1", 7, 10.0), row("r1/a", "v2", 1, 10.0)])
    store.save_traffic([row("r1/a", "v1", 9, 20.0)])  # the same instance again: replaced, not added
    store.save_traffic([])
    rows = store.load_traffic("m")
    assert [(r.version, r.instance, r.counters["requests"]) for r in rows] == [
        ("v1", "r1/a", 9),
        ("v1", "r2/b", 7),
        ("v2", "r1/a", 1),
    ]
    assert [r.instance for r in store.load_traffic("m", ["v2"])] == ["r1/a"]
    assert store.load_traffic("m", []) == [] and store.load_traffic("other") == []
    assert store.prune_traffic(15.0) == 2
    assert [(r.version, r.instance) for r in store.load_traffic("m")] == [("v1", "r1/a")]
    with pytest.raises(InvalidInputError, match="counters"):
        store.save_traffic([TrafficRow("x", "x", "m", "v1", {"bad": float("nan")}, 1.0)])


def test_canary_records_are_compare_and_set(store):
    assert store.load_canary("m") is None and store.load_canaries() == []
    first = store.save_canary(CanaryRecord("m", {"phase": "running"}, "r1", 1.0, 0), expected_revision=0)
    assert first.revision == 1
    with pytest.raises(ConflictError, match="canary of m"):
        store.save_canary(CanaryRecord("m", {"phase": "running"}, "r2", 2.0, 0), expected_revision=0)
    taken = store.save_canary(CanaryRecord("m", {"phase": "promoted"}, "r2", 3.0, 0), expected_revision=1)
    assert store.load_canary("m") == taken
    assert (taken.owner, taken.heartbeat_at, taken.revision, taken.document) == ("r2", 3.0, 2, {"phase": "promoted"})
    assert store.load_canaries() == [taken]
