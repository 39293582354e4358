"""The RegistryStore audit-log contract, run against every implementation (see conftest)."""

from __future__ import annotations

import math
import threading

import pytest

from nba_mcp_deploy.access.audit import AuditEntry
from nba_mcp_deploy.errors import InvalidInputError
from tests.stores.factories import T0


def entry(tool: str = "deploy_model", model_id: str | None = "win_prob", at: float = T0, **fields) -> AuditEntry:
    values: dict[str, object] = {
        "caller": "alice",
        "role": "admin",
        "arguments": {"model_id": model_id, "version": "v1.0", "inputs": "<list of 10000 items>"},
        "outcome": "ok",
    }
    values.update(fields)
    return AuditEntry(at=at, tool=tool, model_id=model_id, **values)


def test_an_entry_reads_back_as_written_with_its_seq(store):
    written = entry(
        outcome="error",
        error_category="permission denied",
        message="deploy_model needs the WRITE permission; ünïcode",
        duration_ms=1.5,
        arguments={"nested": {"a": [1, None, "x"]}, "flag": True},
    )
    stored = store.append_audit(written)
    assert stored.seq is not None and stored == AuditEntry(**{**written.__dict__, "seq": stored.seq})
    assert store.list_audit() == [stored]


def test_entries_come_newest_first_with_growing_seqs_and_survive_a_reopen(open_store):
    store = open_store()
    seqs = [store.append_audit(entry(at=T0 + i, tool=f"tool{i}")).seq for i in range(5)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [e.tool for e in store.list_audit()] == ["tool4", "tool3", "tool2", "tool1", "tool0"]
    store.close()
    reopened = open_store()
    assert [e.seq for e in reopened.list_audit(limit=2)] == seqs[:2:-1][:2]
    assert reopened.append_audit(entry()).seq > seqs[-1]


def test_filters_by_model_and_time_and_limits(store):
    for i in range(6):
        store.append_audit(entry(model_id="a" if i % 2 else "b", at=T0 + i))
    store.append_audit(entry(tool="get_audit_log", model_id=None, at=T0 + 10))
    assert [e.at for e in store.list_audit(model_id="a")] == [T0 + 5, T0 + 3, T0 + 1]
    assert [e.at for e in store.list_audit(since=T0 + 4)] == [T0 + 10, T0 + 5, T0 + 4]
    assert [e.at for e in store.list_audit(model_id="b", since=T0 + 1)] == [T0 + 4, T0 + 2]
    assert len(store.list_audit(limit=1)) == 1 and len(store.list_audit(limit=1000)) == 7
    assert store.list_audit(model_id="nobody") == []


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"model_id": None, "since": None, "limit": 0}, "limit"),
        ({"model_id": None, "since": None, "limit": 1001}, "limit"),
        ({"model_id": None, "since": None, "limit": True}, "limit"),
        ({"model_id": None, "since": math.nan, "limit": 10}, "since"),
        ({"model_id": None, "since": "yesterday", "limit": 10}, "since"),
        ({"model_id": 5, "since": None, "limit": 10}, "model_id"),
    ],
)
def test_bad_queries_name_the_field(store, arguments, field):
    with pytest.raises(InvalidInputError, match=f"invalid {field}"):
        store.list_audit(**arguments)


def test_arguments_that_are_not_json_are_refused_and_nothing_is_written(store):
    for bad in ({"x": math.nan}, {"x": object()}, ["not", "a", "mapping"]):
        with pytest.raises(InvalidInputError, match="arguments"):
            store.append_audit(entry(arguments=bad))
    with pytest.raises(InvalidInputError, match="outcome"):
        store.append_audit(entry(outcome="maybe"))
    assert store.list_audit() == []


def test_threads_appending_at_once_get_distinct_seqs_and_lose_nothing(store):
    def write(worker: int) -> None:
        for i in range(25):
            store.append_audit(entry(caller=f"w{worker}", at=T0 + i))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = store.list_audit(limit=1000)
    assert len(entries) == 100 and len({e.seq for e in entries}) == 100
    assert sorted(e.caller for e in entries) == sorted(f"w{w}" for w in range(4) for _ in range(25))


def test_pruning_deletes_only_older_entries_and_seqs_are_never_reused(store):
    written = [store.append_audit(entry(at=T0 + i, tool=f"tool{i}")) for i in range(6)]
    assert store.prune_audit(before=T0 + 4) == 4
    assert [e.tool for e in store.list_audit()] == ["tool5", "tool4"]
    assert store.prune_audit(before=T0 + 4) == 0
    assert store.append_audit(entry(at=T0 + 9)).seq > written[-1].seq
    for bad in (math.nan, math.inf, "yesterday", True):
        with pytest.raises(InvalidInputError, match="before"):
            store.prune_audit(before=bad)
    assert len(store.list_audit()) == 3
