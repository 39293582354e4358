"""The outbox relay on a real sqlite store, delivering to a plain list (the target system stands in
the way a loopback receiver does): order, waiting out an outage, parking, other processes' entries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nba_mcp_deploy.clock import SystemClock
from nba_mcp_deploy.errors import RemoteError, UnavailableError
from nba_mcp_deploy.mlflow_sync.relay import OutboxRelay, RelaySettings, RelayState
from nba_mcp_deploy.registry.outbox import OutboxEntry
from nba_mcp_deploy.stores.sqlite import SqliteRegistryStore

FAST = RelaySettings(batch=3, max_attempts=3, initial_backoff_sec=0.01, max_backoff_sec=0.05, poll_sec=0.05)


class Target:
    """A target system that records what it receives and can be taken down or made to refuse."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.up = threading.Event()
        self.up.set()
        self.refuse: set[int] = set()
        self.hold = threading.Event()  # set: a delivery hangs (MLflow retrying a lost connection)
        self.holding = threading.Event()

    def check(self) -> None:
        if not self.up.is_set():
            raise UnavailableError("target down")

    def deliver(self, entry: OutboxEntry) -> None:
        while self.hold.is_set():
            self.holding.set()
            time.sleep(0.005)
        self.check()
        if entry.payload["n"] in self.refuse:
            raise RemoteError(f"refusing {entry.payload['n']}")
        self.received.append(entry.payload["n"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteRegistryStore]:
    opened = SqliteRegistryStore(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def target() -> Target:
    return Target()


@pytest.fixture
def relay(store: SqliteRegistryStore, target: Target) -> Iterator[OutboxRelay]:
    started = OutboxRelay(store, target.deliver, target.check, SystemClock(), FAST)
    started.start()
    yield started
    started.close()


def put(store: SqliteRegistryStore, *numbers: int) -> None:
    for n in numbers:
        store.outbox_append("t", {"n": n}, 0.0)


def test_entries_are_delivered_in_order_and_acknowledged(store, target, relay) -> None:
    put(store, *range(10))
    assert relay.drain(10)
    assert target.received == list(range(10))
    assert store.outbox_counts().pending == 0
    assert relay.status().delivered == 10


def test_an_outage_holds_everything_back_until_the_target_answers(store, target, relay) -> None:
    target.up.clear()
    put(store, *range(10))
    assert not relay.drain(0.3)
    assert target.received == []
    status = relay.status()
    assert status.state is RelayState.UNAVAILABLE and status.unavailable_since is not None
    assert status.last_error == "target down"
    target.up.set()
    assert relay.drain(10)
    assert target.received == list(range(10))
    assert relay.status().unavailable_since is None


def test_a_refused_entry_is_retried_then_parked_and_the_rest_goes_on(store, target, relay) -> None:
    target.refuse = {3}
    put(store, *range(6))
    assert relay.drain(10)
    assert target.received == [0, 1, 2, 4, 5]
    assert store.outbox_counts().parked == 1
    assert relay.status().last_error == "RemoteError: refusing 3"
    target.refuse = set()
    assert store.outbox_unpark() == 1
    assert relay.drain(10)
    assert target.received == [0, 1, 2, 4, 5, 3]


def test_entries_queued_by_another_process_are_found_by_polling(tmp_path, store, target, relay) -> None:
    other = SqliteRegistryStore(tmp_path)  # a second server process sharing the registry
    put(other, 1, 2)
    other.close()
    deadline = time.monotonic() + 5
    while target.received != [1, 2] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert target.received == [1, 2]


def test_a_call_in_progress_is_visible_until_it_returns(store, target, relay) -> None:
    target.hold.set()
    put(store, 1)
    assert target.holding.wait(5)
    status = relay.status()
    assert status.state is RelayState.DELIVERING and status.busy_since is not None
    target.hold.clear()
    assert relay.drain(5)
    assert relay.status().busy_since is None and target.received == [1]
