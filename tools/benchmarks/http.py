"""HTTP suite: application traffic against `mlflow models serve` and MLServer 1.7 on the same
scikit-learn model.

Both servers run as subprocesses on loopback, one process each (MLflow's default: one uvicorn
worker); a closed-loop load generator (`wrk` if installed, else an async client, see loadgen.py)
sends one-row requests, alternating between the servers round by round so both see the same
machine. Medians over the rounds are reported.

1. `/invocations` (MLflow's protocol, the same `dataframe_split` body) at concurrency 16:
   throughput >= 3x MLflow's, and p99 latency no worse than MLflow's.
2. The Open Inference Protocol's `/v2/models/{model}/infer` at concurrency 16, against the same
   MLflow figure.
3. Adaptive batching on (`set_batching`) against off, at concurrency 64, reported.
4. The same OIP REST body (one [1, 8] FP64 tensor, `predict` asked) to ours and to MLServer 1.7
   (`mlserver-sklearn`, its own venv, its defaults: one inference worker process), at
   concurrency 16: throughput >= 3x MLServer's, p99 no worse.
5. OIP gRPC `ModelInfer`, the same message to both, 16 calls in flight, from `h2load`
   (grpc_load.py: a C load generator; ghz is not packaged), reported beside our REST figure.

Before measuring, the servers must give the same predictions for the same rows.
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

from benchmarks import grpc_load
from benchmarks.common import BenchRow, row, stop_processes
from benchmarks.loadgen import LoadResult, generator, run_load
from benchmarks.mlserver import mlserver
from nba_mcp_deploy import nba_models
from nba_mcp_deploy.codecs import oip_proto

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
def our_server(workdir: Path, grpc_port: int | None = None) -> Iterator[str]:
    """`nba-mcp-deploy serve --transport http` (no tokens: loopback, like MLflow's server), and
    OIP over gRPC on `grpc_port` if given."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NBA_MCP_")}
    env.update(
        PYTHONPATH=str(REPO / "src"),
        NBA_MCP_LOG_LEVEL="WARNING",
        NBA_MCP_REGISTRY_FSYNC="false",
        NBA_MCP_MODEL_ROOTS=str(workdir / "models"),
    )
    command = [sys.executable, "-m", "nba_mcp_deploy", "serve", "--transport", "http", "--port", str(port)]
    if grpc_port is not None:
        command += ["--grpc-port", str(grpc_port)]
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


def _same_oip_body(records: list[dict[str, float]]) -> bytes:
    """One unnamed [1, 8] FP64 tensor in the model's feature order, `predict` asked: a body both
    MLServer's scikit-learn runtime and ours read the same way."""
    data = [records[0][c] for c in nba_models.FEATURES]
    tensor = {"name": "input-0", "shape": [1, len(data)], "datatype": "FP64", "data": data}
    return json.dumps({"inputs": [tensor], "outputs": [{"name": "predict"}]}).encode()


def _grpc_message(records: list[dict[str, float]]) -> bytes:
    """The same request as a ModelInferRequest with typed contents."""
    data = [records[0][c] for c in nba_models.FEATURES]
    message = oip_proto.ModelInferRequest(
        model_name=MODEL,
        inputs=[{"name": "input-0", "datatype": "FP64", "shape": [1, len(data)], "contents": {"fp64_contents": data}}],
        outputs=[{"name": "predict"}],
    )
    return bytes(message.SerializeToString())


def _grpc_predict(address: str, message: bytes) -> list[int]:
    """One real grpcio call: the labels it answers (the load generator cannot read them)."""
    import grpc

    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary(
            f"/{oip_proto.SERVICE}/ModelInfer",
            request_serializer=lambda raw: raw,
            response_deserializer=oip_proto.ModelInferResponse.FromString,
        )
        response = call(message, timeout=30)
    output = response.outputs[0]
    if response.raw_output_contents:
        import numpy as np

        return [int(v) for v in np.frombuffer(response.raw_output_contents[0], "<i8")]
    return [int(v) for v in output.contents.int64_contents]


def check_same_as_mlserver(ours: str, theirs: str, body: bytes) -> None:
    def labels(base: str) -> Any:
        answer = httpx2.post(f"{base}/v2/models/{MODEL}/infer", content=body, headers=JSON, timeout=30).json()
        return answer["outputs"][0]["data"]

    if labels(ours) != labels(theirs):
        raise RuntimeError(f"ours and MLServer disagree: {labels(ours)} vs {labels(theirs)}")


def _measure_grpc(address: str, message: bytes, seconds: float, *, ours: str | None = None) -> LoadResult:
    before = served_requests(ours) if ours is not None else 0.0
    result = grpc_load.run_grpc_load(
        address, f"{oip_proto.SERVICE}/ModelInfer", message, connections=16, seconds=seconds, headers={}
    )
    if result.errors:
        raise RuntimeError(f"{result.errors} of {result.requests} gRPC calls to {address} failed")
    if ours is not None and served_requests(ours) - before < result.requests:
        raise RuntimeError(f"{address}: the server counted fewer predictions than the {result.requests} calls")
    return result


def run(quick: bool) -> list[BenchRow]:
    rounds, seconds = (2, 3.0) if quick else (3, 10.0)
    with tempfile.TemporaryDirectory(prefix="nba-bench-http-") as tmp:
        workdir = Path(tmp)
        nba_models.quiet_mlflow()
        trained = nba_models.train_on_raptor([REPO / "data"])
        model_dir = nba_models.save_mlflow_sklearn(trained.logistic, workdir / "models" / "logistic", trained.holdout)
        import joblib

        model_file = workdir / "logistic.joblib"
        joblib.dump(trained.logistic, model_file)
        records = nba_models.records(trained.holdout.iloc[:200])
        one_row = _split_body(records[:1])
        oip_row = _oip_body(records[:1])
        same_row = _same_oip_body(records[:1])
        message = _grpc_message(records[:1])
        grpc_port = _free_port()
        with (
            our_server(workdir, grpc_port) as ours,
            mlflow_server(workdir, model_dir) as theirs,
            mlserver(workdir, model_file, MODEL, "v1.0") as seldon,
        ):
            tool(ours, "deploy_model", model_id=MODEL, version="v1.0", model_uri=str(model_dir))
            check_same_predictions(ours, theirs, records)
            check_same_as_mlserver(ours, seldon.http, same_row)
            our_grpc = f"127.0.0.1:{grpc_port}"
            if _grpc_predict(our_grpc, message) != _grpc_predict(seldon.grpc, message):
                raise RuntimeError("ours and MLServer disagree over gRPC")
            targets = {
                "mlflow": (theirs + "/invocations", one_row),
                "invocations": (ours + "/invocations", one_row),
                "oip": (f"{ours}/v2/models/{MODEL}/infer", oip_row),
                "oip_same": (f"{ours}/v2/models/{MODEL}/infer", same_row),
                "mlserver": (f"{seldon.http}/v2/models/{MODEL}/infer", same_row),
            }
            mine = {"mlflow": None, "invocations": ours, "oip": ours, "oip_same": ours, "mlserver": None}
            grpc_targets = {"grpc": (our_grpc, ours), "mlserver_grpc": (seldon.grpc, None)}
            for name, (url, body) in targets.items():  # warm up the servers and the connection pools
                _measure(url, body, 16, 1.0, ours=mine[name])
            at16: dict[str, list[LoadResult]] = {name: [] for name in [*targets, *grpc_targets]}
            for _ in range(rounds):
                for name, (url, body) in targets.items():
                    at16[name].append(_measure(url, body, 16, seconds, ours=mine[name]))
                if grpc_load.available():
                    for name, (address, counted) in grpc_targets.items():
                        at16[name].append(_measure_grpc(address, message, seconds, ours=counted))
            if grpc_load.available() and _grpc_predict(our_grpc, message) != _grpc_predict(seldon.grpc, message):
                raise RuntimeError("ours and MLServer disagree over gRPC after the load")
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
    rows.extend(_mlserver_rows(at16, load))
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


def _mlserver_rows(at16: dict[str, list[LoadResult]], load: str) -> list[BenchRow]:
    rate, p99 = _median(at16["oip_same"])
    theirs_rate, theirs_p99 = _median(at16["mlserver"])
    rows = [
        row(
            SUITE,
            "OIP REST /v2/models/{model}/infer throughput, c=16, vs MLServer 1.7",
            measured=rate,
            baseline=theirs_rate,
            unit="req/s",
            ratio=rate / theirs_rate,
            target=">= 3x",
            met=rate >= 3 * theirs_rate,
            note=f"same body ([1, 8] FP64, predict); mlserver-sklearn, its defaults; {load}",
        ),
        row(
            SUITE,
            "OIP REST p99 latency, c=16, vs MLServer 1.7",
            measured=p99,
            baseline=theirs_p99,
            unit="ms",
            ratio=p99 / theirs_p99,
            target="<= MLServer's",
            met=p99 <= theirs_p99,
            note=load,
        ),
    ]
    if not at16["grpc"]:
        return rows
    grpc_rate, grpc_p99 = _median(at16["grpc"])
    theirs_grpc_rate, theirs_grpc_p99 = _median(at16["mlserver_grpc"])
    rows.append(
        row(
            SUITE,
            "OIP gRPC ModelInfer throughput, 16 in flight, vs MLServer 1.7 gRPC",
            measured=grpc_rate,
            baseline=theirs_grpc_rate,
            unit="req/s",
            ratio=grpc_rate / theirs_grpc_rate,
            target="reported",
            met=True,
            note=f"p99 {grpc_p99:.1f} ms vs MLServer {theirs_grpc_p99:.1f} ms; our gRPC is {grpc_rate / rate:.2f}x our "
            "REST on the same request; h2load -c16 -m1, typed fp64_contents",
        )
    )
    return rows
