"""Audit entries: arguments summarised to a small JSON picture, written and read through a real store."""

from __future__ import annotations

import json
import math
from pathlib import Path

from nba_mcp_deploy.access import AuditLog, Caller, Role, summarise_arguments
from nba_mcp_deploy.access.audit import MAX_STRING, SUMMARY_BUDGET
from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore


def test_large_payloads_become_counts() -> None:
    records = [{"poss": float(i), "mp": 1.0} for i in range(10_000)]
    summary = summarise_arguments({"model_id": "m", "inputs": records, "actuals": {str(i): 1.0 for i in range(5000)}})
    assert summary == {"model_id": "m", "inputs": "<list of 10000 items>", "actuals": "<mapping of 5000 entries>"}


def test_small_payloads_are_kept_and_odd_values_made_json() -> None:
    summary = summarise_arguments(
        {"versions": ["v1.0", "v2.0"], "weights": [0.5, math.nan], "x": math.inf, "big": 10**30, "o": object()}
    )
    assert summary == {
        "versions": ["v1.0", "v2.0"],
        "weights": [0.5, "nan"],
        "x": "inf",
        "big": "<integer of 31 digits>",
        "o": "<object>",
    }
    json.dumps(summary, allow_nan=False)


def test_long_text_deep_nesting_and_many_strings_stay_small() -> None:
    nested: object = 1
    for _ in range(300):
        nested = {"k": [nested]}
    summary = summarise_arguments(
        {"note": "x" * 100_000, "deep": nested, "many": [{"k" * 150: "v" * 190} for _ in range(16)]}
    )
    assert summary["note"].endswith("... (100000 characters)") and len(summary["note"]) < MAX_STRING + 40
    assert "nested deeper than" in json.dumps(summary["deep"])
    assert len(json.dumps(summary)) < SUMMARY_BUDGET * 2
    assert "<cut>" in json.dumps(summary["many"])


def test_hostile_keys_and_too_many_arguments_are_cut() -> None:
    summary = summarise_arguments({f"k{i}\x00": i for i in range(100)})
    assert len(summary) == 65 and summary["<cut>"] == "36 more arguments"


def test_the_log_writes_caller_outcome_and_model_and_reads_newest_first(tmp_path: Path) -> None:
    store = SqliteRegistryStore(tmp_path, sync_every_commit=False)
    clock = ManualClock(start=1000.0)
    log = AuditLog(store, clock)
    try:
        first = log.record(Caller("alice", Role.ADMIN), "deploy_model", {"model_id": "m", "version": "v1.0"})
        clock.advance(5)
        second = log.record(
            Caller("ci", Role.OPERATOR),
            "promote_model",
            {"model_id": "m", "target_stage": "production"},
            error_category="permission denied",
            message="promote_model needs the ADMIN permission" + "!" * 5000,
            duration_ms=0.3,
        )
        third = log.record(Caller("local", Role.ADMIN), "register_model", {"model_id": ["not", "an", "id"]})
        assert (first.at, first.caller, first.role) == (1000.0, "alice", "admin")
        assert (first.model_id, first.outcome) == ("m", "ok")
        assert second.outcome == "error" and second.error_category == "permission denied"
        assert second.message is not None and len(second.message) == 1000
        assert third.model_id is None
        assert log.entries() == [third, second, first]
        assert log.entries(model_id="m", since=1001.0) == [second]
    finally:
        store.close()


def test_with_a_retention_period_every_nth_write_deletes_what_is_older(tmp_path: Path) -> None:
    store = SqliteRegistryStore(tmp_path, sync_every_commit=False)
    clock = ManualClock(start=1000.0)
    log = AuditLog(store, clock, retention_sec=100.0, prune_every=3)
    admin = Caller("alice", Role.ADMIN)
    try:
        first = log.record(admin, "deploy_model", {"model_id": "m"})  # seq 1, at 1000
        clock.advance(150)
        second = log.record(admin, "deploy_model", {"model_id": "m"})  # seq 2, at 1150: no pruning yet
        assert [e.seq for e in log.entries()] == [second.seq, first.seq]
        clock.advance(10)
        third = log.record(admin, "retire_version", {"model_id": "m"})  # seq 3, at 1160: prunes before 1060
        assert third.seq == 3
        assert [e.seq for e in log.entries()] == [third.seq, second.seq]
        kept = AuditLog(store, clock)  # without a retention period nothing is ever deleted
        clock.advance(10_000)
        for _ in range(3):
            kept.record(admin, "deploy_model", {"model_id": "m"})
        assert len(log.entries()) == 5
    finally:
        store.close()
