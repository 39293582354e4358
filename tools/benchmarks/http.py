"""HTTP suite: application traffic against `mlflow models serve` on the same MLflow sklearn model.

Both servers run as subprocesses on loopback, one process each (MLflow's default: one uvicorn
worker); a closed-loop load generator (`wrk` if installed, else an async client, see loadgen.py)
sends one-row requests, alternating between the servers round by round so both see the same
machine. Medians over the rounds are reported.

1. `/invocations` (MLflow's protocol, the same `dataframe_split` body) at concurrency 16:
   throughput >= 3x MLflow's, and p99 latency no worse than MLflow's.
2. The Open Inference Protocol's `/v2/models/{model}/infer` at concurrency 16, against the same
   MLflow figure.
3. Adaptive batching on (`set_batching`) against off, at concurrency 64, reported.

Before measuring, both servers must give the same predictions for the same rows.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from benchmarks.common import BenchRow, row, stop_processes
from benchmarks.loadgen import LoadResult, generator, run_load
from nba_mcp_deploy import nba_models

SUITE = "http"
REPO = Path(__file__).resolve().parents[2]
MODEL = "nba"
JSON = {"Content-Type": "application/json"}
BATCH_SIZE = 32
BATCH_WAIT_MS = 2.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx2.get(url, timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server at {url} did not become ready: {log.read_text()[-2000:]}")


@contextmanager
def _process(command: list[str], *, cwd: Path, env: dict[str, str], ready: str, log: Path) -> Iterator[None]:
    with log.open("w") as errors:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        _wait_for(ready, process, log)
        yield
    finally:
        stop_processes([process])


@contextmanager
def our_server(workdir: Path) -> Iterator[str]:
    """`nba-mcp-deploy serve --transport http` (no tokens: loopback, like MLflow's server)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_MCP_")}
    env.update(
        PYTHONPATH=str(REPO / "src"),
        NBA_MCP_LOG_LEVEL="WARNING",
        NBA_MCP_REGISTRY_FSYNC="false",
        NBA_MCP_MODEL_ROOTS=str(workdir / "models"),
    )
    command = [sys.executable, "-m", "nba_mcp_deploy", "serve", "--transport", "http", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with _process(command, cwd=workdir, env=env, ready=base + "/readyz", log=workdir / "ours.log"):
        yield base


@contextmanager
def mlflow_server(workdir: Path, model_dir: Path) -> Iterator[str]:
    """`mlflow models serve -m <dir> --env-manager local` (one uvicorn worker, its default)."""
    port = _free_port()
    bin_dir = str(Path(sys.executable).parent)  # it runs `uvicorn` from PATH
    mlflow = shutil.which("mlflow", path=bin_dir) or "mlflow"
    command = [mlflow, "models", "serve", "-m", str(model_dir), "--env-manager", "local", "-p", str(port)]
    command += ["-h", "127.0.0.1"]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MLFLOW_LOGGING_LEVEL": "WARNING", "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    with _process(command, cwd=workdir, env=env, ready=base + "/ping", log=workdir / "mlflow.log"):
        yield base


async def _tool(base: str, name: str, arguments: dict[str, Any]) -> None:
    async with (
        httpx2.AsyncClient(timeout=120) as http,
        Client(streamable_http_client(base + "/mcp", http_client=http)) as client,
    ):
        result = await client.call_tool(name, arguments)
        if result.is_error:
            raise RuntimeError(f"{name} failed: {result.content}")


def tool(base: str, name: str, **arguments: Any) -> None:
    """Call one MCP tool on our server (deploy, batching on/off)."""
    anyio.run(_tool, base, name, arguments)


def _split_body(records: list[dict[str, float]]) -> bytes:
    columns = list(records[0])
    split = {"columns": columns, "data": [[r[c] for c in columns] for r in records]}
    return json.dumps({"dataframe_split": split}).encode()


def _oip_body(records: list[dict[str, float]]) -> bytes:
    columns = list(records[0])
    data = [[r[c] for c in columns] for r in records]
    tensor = {"name": "input-0", "shape": [len(records), len(columns)], "datatype": "FP64", "data": data}
    return json.dumps({"inputs": [{**tensor, "parameters": {"columns": columns}}]}).encode()


def check_same_predictions(ours: str, theirs: str, records: list[dict[str, float]]) -> None:
    body = _split_body(records)
    mine = httpx2.post(ours + "/invocations", content=body, headers=JSON, timeout=30).json()["predictions"]
    mlflow = httpx2.post(theirs + "/invocations", content=body, headers=JSON, timeout=30).json()["predictions"]
    if mine != mlflow:
        raise RuntimeError(f"the servers disagree: ours {mine[:10]} vs mlflow {mlflow[:10]}")


def _median(results: list[LoadResult]) -> tuple[float, float]:
    return statistics.median(r.requests_per_sec for r in results), statistics.median(r.p99_ms for r in results)


def served_requests(ours: str) -> float:
    """Requests our server's predict path has served (its Prometheus counter), all models."""
    text = httpx2.get(ours + "/metrics", timeout=30).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("nba_mcp_predict_requests_total{")
    )


def _measure(url: str, body: bytes, connections: int, seconds: float, *, ours: str | None = None) -> LoadResult:
    """One load run; every answer must be a 2xx, and on our server every request must have been
    served by predict (a load generator silently sending the wrong request would measure nothing)."""
    before = served_requests(ours) if ours is not None else 0.0
    result = run_load(url, body, connections=connections, seconds=seconds, headers=JSON)
    if result.errors:
        raise RuntimeError(f"{result.errors} of {result.requests} requests against {url} failed")
    if ours is not None and served_requests(ours) - before < result.requests:
        raise RuntimeError(f"{url}: the server counted fewer predictions than the {result.requests} requests sent")
    return result


def run(quick: bool) -> list[BenchRow]:
    rounds, seconds = (2, 3.0) if quick else (3, 10.0)
    with tempfile.TemporaryDirectory(prefix="nba-bench-http-") as tmp:
        workdir = Path(tmp)
        nba_models.quiet_mlflow()
        trained = nba_models.train_on_raptor([REPO / "data"])
        model_dir = nba_models.save_mlflow_sklearn(trained.logistic, workdir / "models" / "logistic", trained.holdout)
        records = nba_models.records(trained.holdout.iloc[:200])
        one_row = _split_body(records[:1])
        oip_row = _oip_body(records[:1])
        with our_server(workdir) as ours, mlflow_server(workdir, model_dir) as theirs:
            tool(ours, "deploy_model", model_id=MODEL, version="v1.0", model_uri=str(model_dir))
            check_same_predictions(ours, theirs, records)
            targets = {
                "mlflow": (theirs + "/invocations", one_row),
                "invocations": (ours + "/invocations", one_row),
                "oip": (f"{ours}/v2/models/{MODEL}/infer", oip_row),
            }
            mine = {"mlflow": None, "invocations": ours, "oip": ours}
            for name, (url, body) in targets.items():  # warm up both servers and the connection pools
                _measure(url, body, 16, 1.0, ours=mine[name])
            at16: dict[str, list[LoadResult]] = {name: [] for name in targets}
            for _ in range(rounds):
                for name, (url, body) in targets.items():
                    at16[name].append(_measure(url, body, 16, seconds, ours=mine[name]))
            batching: dict[str, list[LoadResult]] = {"off": [], "on": []}
            url = ours + "/invocations"
            for _ in range(rounds):
                tool(ours, "clear_batching", model_id=MODEL)
                batching["off"].append(_measure(url, one_row, 64, seconds, ours=ours))
                tool(ours, "set_batching", model_id=MODEL, max_batch_size=BATCH_SIZE, max_wait_ms=BATCH_WAIT_MS)
                batching["on"].append(_measure(url, one_row, 64, seconds, ours=ours))
    return _rows(at16, batching, quick)


def _rows(at16: dict[str, list[LoadResult]], batching: dict[str, list[LoadResult]], quick: bool) -> list[BenchRow]:
    load = f"{generator()}, 1 row per request"
    mlflow_rate, mlflow_p99 = _median(at16["mlflow"])
    rows = []
    for name, label in (("invocations", "/invocations"), ("oip", "/v2/models/{model}/infer")):
        rate, p99 = _median(at16[name])
        rows.append(
            row(
                SUITE,
                f"{label} throughput, c=16, vs mlflow models serve",
                measured=rate,
                baseline=mlflow_rate,
                unit="req/s",
                ratio=rate / mlflow_rate,
                target=">= 3x",
                met=rate >= 3 * mlflow_rate,
                note=load,
            )
        )
        rows.append(
            row(
                SUITE,
                f"{label} p99 latency, c=16, vs mlflow models serve",
                measured=p99,
                baseline=mlflow_p99,
                unit="ms",
                ratio=p99 / mlflow_p99,
                target="<= mlflow's",
                met=p99 <= mlflow_p99,
                note=load,
            )
        )
    on_rate, on_p99 = _median(batching["on"])
    off_rate, off_p99 = _median(batching["off"])
    rows.append(
        row(
            SUITE,
            f"batching on (max {BATCH_SIZE}, {BATCH_WAIT_MS:g} ms) vs off, c=64, throughput",
            measured=on_rate,
            baseline=off_rate,
            unit="req/s",
            ratio=on_rate / off_rate,
            target="reported",
            met=True,
            note=f"p99 {on_p99:.1f} ms on vs {off_p99:.1f} ms off; {load}",
        )
    )
    return rows
