"""Several threads and several processes writing one store at once: nothing is lost or doubled.

Real processes and real files: the writers are `python -m tests.stores.worker` children.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nba_mcp_deploy.errors import ConflictError, InvalidInputError
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.stages import Stage
from tests.stores.implementations import OPENERS, TESTS_ROOT, subprocess_env


def _worker(kind: str, directory: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.stores.worker", kind, str(directory), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=TESTS_ROOT,
        env=subprocess_env(),
    )


def _together(writers: list[subprocess.Popen[str]], *, timeout: float) -> list[tuple[str, str]]:
    """Wait until every writer is ready, start them at once, and collect their output."""
    for writer in writers:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
    for writer in writers:
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    return [writer.communicate(timeout=timeout) for writer in writers]


@pytest.mark.slow
def test_four_processes_writing_500_versions_each_lose_nothing(store_kind, tmp_path):
    # No store exists yet: the four also race to create the schema, then to write.
    writers = [_worker(store_kind, tmp_path, "register", str(p), "500") for p in range(1, 5)]
    try:
        outputs = _together(writers, timeout=240)
    finally:
        for writer in writers:
            writer.kill()
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
        assert len(out.split()) == 1000  # 500 x "ack vP.i"
    store = OPENERS[store_kind](tmp_path)
    try:
        versions = store.list_versions("shared")
        assert len(versions) == 2000
        assert {v.version for v in versions} == {f"v{p}.{i}" for p in range(1, 5) for i in range(500)}
        history = store.history("shared")
        assert len(history) == 2000
        assert len({c.seq for c in history}) == 2000
        assert {c.actor for c in history} == {f"writer-{p}" for p in range(1, 5)}
    finally:
        store.close()


@pytest.mark.slow
def test_a_writer_killed_mid_loop_never_loses_an_acknowledged_write(store_kind, tmp_path):
    rng = random.Random(20240611)
    acked: dict[str, int] = {"reg": -1, "dep": -1, "prod": -1}
    start = 0
    for _round in range(10):
        writer = _worker(store_kind, tmp_path, "loop", str(start))
        try:
            assert writer.stdout is not None
            for _ in range(rng.randint(20, 120)):
                line = writer.stdout.readline()
                assert line, writer.stderr.read() if writer.stderr else ""
                kind, n = line.split()
                acked[kind] = int(n)
            writer.send_signal(signal.SIGKILL)  # at whatever point it has reached
            writer.wait(timeout=30)
        finally:
            writer.kill()
            writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        store = OPENERS[store_kind](tmp_path)  # opens: the file is whole
        try:
            present = {int(v.version[1:]) for v in store.list_versions("crash")}
            assert set(range(acked["reg"] + 1)) <= present
            assert store.load_deployments()["crash"]["n"] >= acked["dep"]
            production = [v for v in store.list_versions("crash") if v.stage is Stage.PRODUCTION]
            assert len(production) == 1
            assert int(production[0].version[1:]) >= acked["prod"]
            assert len(store.history("crash")) >= len(present)
        finally:
            store.close()
        start = acked["reg"] + 1


@pytest.mark.slow
def test_processes_promoting_at_once_leave_exactly_one_production_version(store_kind, tmp_path):
    store = OPENERS[store_kind](tmp_path)
    registry = ModelRegistry(store)
    try:
        for i in range(6):
            registry.register_model("race", f"v{i}", stage="staging")
        writers = [_worker(store_kind, tmp_path, "promote", f"v{i}") for i in range(6)]
        try:
            outputs = _together(writers, timeout=120)
        finally:
            for writer in writers:
                writer.kill()
        outcomes = [out.strip() for out, _ in outputs]
        assert set(outcomes) <= {"promoted", "refused"}, [err for _, err in outputs]
        _one_production_and_a_consistent_history(registry, outcomes)
    finally:
        store.close()


def test_threads_registering_and_promoting_at_once_keep_every_rule(store_kind, tmp_path):
    store = OPENERS[store_kind](tmp_path)
    registry = ModelRegistry(store)
    try:
        for i in range(16):
            registry.register_model("race", f"v{i}", stage="staging")

        def register(worker: int) -> None:
            for i in range(25):
                registry.register_model(f"model_{worker % 4}", f"v{worker}.{i}", metrics={"acc": i / 25})

        def promote(i: int) -> str:
            try:
                registry.promote_model("race", f"v{i}", "production", actor=f"thread-{i}")
                return "promoted"
            except (ConflictError, InvalidInputError):
                return "refused"

        with ThreadPoolExecutor(max_workers=8) as pool:
            registered = [pool.submit(register, w) for w in range(8)]
            promoted = [pool.submit(promote, i) for i in range(16)]
            outcomes = [f.result() for f in promoted]
            for f in registered:
                f.result()
        assert registry.get_statistics().total_versions == 16 + 8 * 25
        _one_production_and_a_consistent_history(registry, outcomes)
    finally:
        store.close()


def _one_production_and_a_consistent_history(registry: ModelRegistry, outcomes: list[str]) -> None:
    """Model 'race' has one production version, one promotion per 'promoted' outcome, and each
    promotion archived exactly the version that was in production just before it."""
    race = registry.list_versions("race")
    assert [v.stage for v in race].count(Stage.PRODUCTION) == 1
    history = registry.get_history("race")
    promotions = [c for c in history if c.to_stage is Stage.PRODUCTION]
    assert len(promotions) == outcomes.count("promoted") >= 1
    superseded = [c for c in history if c.from_stage is Stage.PRODUCTION]
    assert len(superseded) == len(promotions) - 1
    holder = None
    for change in history:
        if change.from_stage is Stage.PRODUCTION:
            assert change.version == holder
        if change.to_stage is Stage.PRODUCTION:
            holder = change.version
    assert race[[v.version for v in race].index(holder)].stage is Stage.PRODUCTION


def test_connections_of_finished_threads_are_released(store_kind, tmp_path):
    store = OPENERS[store_kind](tmp_path)
    try:
        for _i in range(40):
            thread = threading.Thread(target=store.statistics)
            thread.start()
            thread.join()
        open_fds = len(os.listdir("/proc/self/fd")) if Path("/proc/self/fd").exists() else 0
        thread = threading.Thread(target=store.statistics)
        thread.start()
        thread.join()
        if open_fds:
            assert len(os.listdir("/proc/self/fd")) <= open_fds + 3
        assert store.statistics().total_versions == 0
    finally:
        store.close()
