"""The in-memory store (mock mode): the contract suite's single-store tests, and what is its own.

Every contract test that needs only one open store runs here against `MemoryRegistryStore` too;
the ones that reopen a store or share it between processes do not apply (nothing outlives it).
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nba_mcp_deploy.errors import StoreError
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.stores.sqlite_memory import MemoryRegistryStore
from tests.stores import test_contract, test_contract_audit, test_contract_outbox, test_contract_replicas

# Fixtures that need a store to be reopened or opened per implementation.
_NOT_FOR_ONE_STORE = {"open_store", "store_kind", "catalogue"}

for _module in (test_contract, test_contract_audit, test_contract_outbox, test_contract_replicas):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and not _NOT_FOR_ONE_STORE & set(inspect.signature(_test).parameters):
            globals()[_name] = _test


@pytest.fixture
def store() -> Iterator[MemoryRegistryStore]:
    opened = MemoryRegistryStore()
    yield opened
    opened.close()


def test_the_contract_tests_run_here_too() -> None:
    borrowed = [
        n for n, t in globals().items() if inspect.isfunction(t) and n.startswith("test_") and t.__module__ != __name__
    ]
    assert len(borrowed) > 40
    collected = set(borrowed)
    assert "test_reopening_restores_everything" not in collected


def test_a_registry_in_memory_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = MemoryRegistryStore()
    registry = ModelRegistry(store)
    registry.register_model("m", "v1.0", stage=Stage.STAGING, metrics={"accuracy": 0.9})
    registry.promote_model("m", "v1.0", Stage.PRODUCTION)
    store.save_deployment("m", {"active": "v1.0"})
    assert registry.get_statistics().production_count == 1
    store.close()
    assert os.listdir(tmp_path) == []


def test_two_stores_never_see_each_others_data() -> None:
    first, second = MemoryRegistryStore(), MemoryRegistryStore()
    try:
        ModelRegistry(first).register_model("m", "v1.0")
        assert second.list_models() == []
        assert [s.model_id for s in first.list_models()] == ["m"]
    finally:
        first.close()
        second.close()


def test_readers_and_writers_on_many_threads_share_the_one_connection(store: MemoryRegistryStore) -> None:
    registry = ModelRegistry(store)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(25):
                registry.register_model(f"m{worker}", f"v{i}.0")
                registry.get_statistics()
                registry.search_models(model_id=f"m{worker}")
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert registry.get_statistics().total_versions == 150


def test_it_has_no_file_to_name(store: MemoryRegistryStore) -> None:
    assert store.where == "(in memory)"
    with pytest.raises(StoreError, match="no file"):
        _ = store.path
