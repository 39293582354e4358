"""The RegistryStore contract for the outbox: ordered, durable, acknowledged, parked, concurrent."""

from __future__ import annotations

import threading

import pytest

from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.registry.outbox import OutboxCounts
from tests.stores.factories import T0


def test_entries_come_back_oldest_first_exactly_as_written(store):
    payloads = [{"n": i, "nested": {"list": [1, 2.5, None], "text": "ünï"}} for i in range(5)]
    written = [store.outbox_append("registry.stage", p, T0 + i) for i, p in enumerate(payloads)]
    assert [e.seq for e in written] == sorted(e.seq for e in written)
    pending = store.outbox_pending()
    assert pending == written
    assert [dict(e.payload) for e in pending] == payloads
    assert pending[0].attempts == 0 and pending[0].last_error is None and not pending[0].parked
    assert store.outbox_pending(limit=2) == written[:2]
    assert store.outbox_counts() == OutboxCounts(pending=5, parked=0)


def test_an_acknowledged_entry_is_gone_and_its_seq_is_never_reused(store):
    first = store.outbox_append("t", {"n": 1}, T0)
    second = store.outbox_append("t", {"n": 2}, T0)
    assert store.outbox_ack(second.seq)
    assert not store.outbox_ack(second.seq)
    third = store.outbox_append("t", {"n": 3}, T0)
    assert third.seq > second.seq
    assert [e.seq for e in store.outbox_pending()] == [first.seq, third.seq]


def test_entries_survive_reopening(open_store):
    store = open_store()
    written = [store.outbox_append("t", {"n": i}, T0) for i in range(3)]
    store.outbox_fail(written[1].seq, "refused", park=True)
    store.close()
    reopened = open_store()
    assert [e.seq for e in reopened.outbox_pending()] == [written[0].seq, written[2].seq]
    assert reopened.outbox_counts() == OutboxCounts(pending=2, parked=1)


def test_failures_are_counted_and_a_parked_entry_stops_blocking_until_unparked(store):
    a = store.outbox_append("t", {"n": 1}, T0)
    b = store.outbox_append("t", {"n": 2}, T0)
    failed = store.outbox_fail(a.seq, "server said no", park=False)
    assert failed is not None
    assert (failed.attempts, failed.last_error, failed.parked) == (1, "server said no", False)
    parked = store.outbox_fail(a.seq, "still no", park=True)
    assert parked is not None and parked.attempts == 2 and parked.parked
    assert store.outbox_pending() == [b]
    assert store.outbox_counts() == OutboxCounts(pending=1, parked=1)
    assert store.outbox_unpark() == 1
    assert [(e.seq, e.attempts, e.parked) for e in store.outbox_pending()] == [(a.seq, 0, False), (b.seq, 0, False)]
    store.outbox_ack(a.seq)
    assert store.outbox_fail(a.seq, "late", park=True) is None


def test_a_long_error_is_kept_bounded(store):
    entry = store.outbox_append("t", {}, T0)
    failed = store.outbox_fail(entry.seq, "x" * 100_000, park=False)
    assert failed is not None and failed.last_error is not None
    assert 100 < len(failed.last_error) <= 10_000


@pytest.mark.parametrize(
    ("topic", "payload", "field"),
    [
        ("", {}, "topic"),
        ("t" * 65, {}, "topic"),
        ("t", {"bad": float("nan")}, "payload"),
        ("t", {"bad": object()}, "payload"),
        ("t", ["not", "a", "mapping"], "payload"),
    ],
)
def test_a_bad_topic_or_payload_is_refused_and_nothing_is_queued(store, topic, payload, field):
    with pytest.raises(InvalidInputError, match=field):
        store.outbox_append(topic, payload, T0)
    assert store.outbox_counts() == OutboxCounts(0, 0)


def test_threads_appending_at_once_get_distinct_increasing_seqs_in_each_thread(store):
    per_thread, threads = 50, 4
    seqs: dict[int, list[int]] = {}

    def append(worker: int) -> None:
        seqs[worker] = [store.outbox_append("t", {"w": worker, "i": i}, T0).seq for i in range(per_thread)]

    runners = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join()
    everything = [s for worker in seqs.values() for s in worker]
    assert len(set(everything)) == per_thread * threads
    for worker in seqs.values():
        assert worker == sorted(worker)
    pending = store.outbox_pending(limit=1000)
    assert [e.seq for e in pending] == sorted(everything)
    for worker in range(threads):  # each thread's entries keep its order in the queue
        assert [e.payload["i"] for e in pending if e.payload["w"] == worker] == list(range(per_thread))
