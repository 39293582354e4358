"""Serving suite: what routing, the breaker and metrics cost, and what MCP adds.

1. `ModelServingManager.predict` on one record of a scikit-learn model against the model's own
   `predict` on the same row as a NumPy matrix: the overhead at the median.
2. The same on an MLflow sklearn model directory (signature still checked) against
   `mlflow.pyfunc.load_model(...).predict` on a one-row DataFrame.
3. MCP `predict` round trip over stdio against a bare `MCPServer` echo tool's round trip plus
   the model's own time. The model's own time is taken as it is served: the round trip of a
   bare `MCPServer` whose tool calls the model's `predict_proba` on the same records
   (tools/model_server.py), minus the echo round trip measured beside it, because a server
   woken by each request runs the model with cold caches, slower than in a tight loop; the
   tight-loop time is reported in the note as well.
4. Cold start of a first start, spawn to `tools/list` answered (an empty registry directory),
   against the bare echo server.

Each row states its target; docs/benchmarks.md records the figures. Candidates and baselines
alternate in one process; medians are reported.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from benchmarks.common import BenchRow, interleaved_p50, latencies, row
from nba_mcp_deploy import nba_models
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import build_services

SUITE = "serving"
REPO = Path(__file__).resolve().parents[2]
# Outside tools/benchmarks/: run as a script, its directory goes first on sys.path, where
# benchmarks/http.py would shadow the standard library's `http`.
ECHO = Path(__file__).resolve().parents[1] / "echo_server.py"
BARE_MODEL = Path(__file__).resolve().parents[1] / "model_server.py"


def _models(workdir: Path) -> tuple[nba_models.TrainedModels, Path, Path]:
    nba_models.quiet_mlflow()
    trained = nba_models.train_on_raptor([REPO / "data"])
    skops_file = nba_models.save_skops(trained.logistic, workdir / "models" / "logistic.skops")
    mlflow_dir = nba_models.save_mlflow_sklearn(
        trained.logistic, workdir / "models" / "logistic_mlflow", trained.holdout
    )
    return trained, skops_file, mlflow_dir


def in_process_rows(trained: nba_models.TrainedModels, mlflow_dir: Path, workdir: Path, quick: bool) -> list[BenchRow]:
    import mlflow.pyfunc

    config = DeploymentConfig(registry_dir=workdir / "registry", model_roots=(workdir / "models",))
    services = build_services(config)
    manager = services.manager
    manager.deploy_model("bench", "v1.0", model_instance=trained.logistic)
    manager.deploy_model("bench", "v2.0", model_uri=str(mlflow_dir), set_active=False)
    record = nba_models.records(trained.holdout.iloc[:1])
    matrix = trained.holdout[nba_models.FEATURES].iloc[:1].to_numpy()
    frame = trained.holdout[nba_models.FEATURES].iloc[:1]
    model = trained.logistic
    repeats = 7 if quick else 25
    ours, native = interleaved_p50(
        lambda: manager.predict("bench", record), lambda: model.predict(matrix), calls=200, repeats=repeats
    )
    overhead_us = (ours - native) * 1e6
    rows = [
        row(
            SUITE,
            "predict() overhead, 1 record, sklearn",
            measured=overhead_us,
            baseline=native * 1e6,
            unit="us",
            ratio=ours / native,
            target="overhead <= 25 us",
            met=overhead_us <= 25,
            note=f"ours {ours * 1e6:.1f} us vs model.predict {native * 1e6:.1f} us",
        )
    ]
    pyfunc = mlflow.pyfunc.load_model(str(mlflow_dir))
    ours, theirs = interleaved_p50(
        lambda: manager.predict("bench", record, version="v2.0"),
        lambda: pyfunc.predict(frame),
        calls=50,
        repeats=repeats,
    )
    rows.append(
        row(
            SUITE,
            "predict(), MLflow sklearn model vs mlflow.pyfunc",
            measured=ours * 1e6,
            baseline=theirs * 1e6,
            unit="us",
            ratio=theirs / ours,
            target=">= 2x faster",
            met=theirs / ours >= 2,
            note="signature checked by our input validation",
        )
    )
    services.close()
    return rows


def _server(command: str, args: list[str], workdir: Path, registry: str = "registry") -> StdioServerParameters:
    env = {
        "MODEL_REGISTRY_DIR": str(workdir / registry),
        "NBA_MCP_MODEL_ROOTS": str(workdir / "models"),
        "PYTHONPATH": str(REPO / "src"),  # this checkout, not whatever the environment has installed
    }
    return StdioServerParameters(command=command, args=args, env=env, cwd=str(workdir))


def _ours(workdir: Path, registry: str = "registry") -> StdioServerParameters:
    return _server(sys.executable, ["-m", "nba_mcp_deploy", "serve"], workdir, registry)


def _echo(workdir: Path) -> StdioServerParameters:
    return _server(sys.executable, [str(ECHO)], workdir)


def _bare_model(workdir: Path, skops_file: Path) -> StdioServerParameters:
    return _server(sys.executable, [str(BARE_MODEL), str(skops_file), *nba_models.FEATURES], workdir)


async def _cold_start(params: StdioServerParameters) -> float:
    with open("/dev/null", "w") as sink:
        start = time.perf_counter()
        async with Client(stdio_client(params, errlog=sink)) as client:
            await client.list_tools()
            return time.perf_counter() - start


def mcp_rows(trained: nba_models.TrainedModels, skops_file: Path, workdir: Path, quick: bool) -> list[BenchRow]:
    record = nba_models.records(trained.holdout.iloc[:1])
    matrix = trained.holdout[nba_models.FEATURES].iloc[:1].to_numpy()
    calls = 300 if quick else 1500

    async def measure() -> tuple[float, float, float, float, float]:
        echo_samples: list[float] = []
        model_samples: list[float] = []
        ours_samples: list[float] = []
        with open("/dev/null", "w") as sink:
            async with (
                Client(stdio_client(_echo(workdir), errlog=sink)) as echo,
                Client(stdio_client(_bare_model(workdir, skops_file), errlog=sink)) as bare,
                Client(stdio_client(_ours(workdir), errlog=sink)) as ours,
            ):
                deployed = await ours.call_tool(
                    "deploy_model", {"model_id": "bench", "version": "v1.0", "model_uri": skops_file.name}
                )
                assert not deployed.is_error, deployed.content
                arguments = {"model_id": "bench", "inputs": record}
                for _ in range(100):
                    await echo.call_tool("echo", {"text": "x"})
                    await bare.call_tool("predict", {"inputs": record})
                    await ours.call_tool("predict", arguments)
                for _ in range(calls):  # alternate, so all three see the same machine
                    start = time.perf_counter()
                    await echo.call_tool("echo", {"text": "x"})
                    echoed = time.perf_counter()
                    scored = await bare.call_tool("predict", {"inputs": record})
                    bare_done = time.perf_counter()
                    result = await ours.call_tool("predict", arguments)
                    ours_samples.append(time.perf_counter() - bare_done)
                    model_samples.append((bare_done - echoed) - (echoed - start))
                    echo_samples.append(echoed - start)
                    assert not result.is_error
                    assert not scored.is_error
                    assert result.structured_content is not None
                    assert scored.structured_content is not None
                    assert result.structured_content["probabilities"] == scored.structured_content["result"]
        cold_echo: list[float] = []
        cold_ours: list[float] = []
        for start in range(3 if quick else 7):
            cold_echo.append(await _cold_start(_echo(workdir)))
            cold_ours.append(await _cold_start(_ours(workdir, f"first-start-{start}")))
        return (
            statistics.median(echo_samples),
            statistics.median(model_samples),
            statistics.median(ours_samples),
            statistics.median(cold_echo),
            statistics.median(cold_ours),
        )

    echo_p50, model_p50, ours_p50, cold_echo, cold_ours = anyio.run(measure)
    tight_loop = statistics.median(
        latencies(lambda: trained.logistic.predict_proba(matrix), calls=2000 if not quick else 300)
    )
    budget = 1.3 * echo_p50 + model_p50
    return [
        row(
            SUITE,
            "MCP predict round trip over stdio",
            measured=ours_p50 * 1e3,
            baseline=echo_p50 * 1e3,
            unit="ms",
            ratio=ours_p50 / (echo_p50 + model_p50),
            target="p50 <= 1.3 x echo + model",
            met=ours_p50 <= budget,
            note=f"budget {budget * 1e3:.3f} ms (model as served {model_p50 * 1e3:.3f} ms: bare MCPServer with "
            f"the model minus echo, paired median; in a tight loop {tight_loop * 1e3:.3f} ms, against which "
            f"the ratio is {ours_p50 / (echo_p50 + tight_loop):.2f})",
        ),
        row(
            SUITE,
            "cold start, first start: spawn to tools/list",
            measured=cold_ours,
            baseline=cold_echo,
            unit="s",
            ratio=cold_ours / cold_echo,
            target="<= 1.5x bare MCPServer",
            met=cold_ours / cold_echo <= 1.5,
            note="an empty registry directory each time; the services start after tools/list",
        ),
    ]


def run(quick: bool) -> list[BenchRow]:
    with tempfile.TemporaryDirectory(prefix="nba-bench-serving-") as tmp:
        workdir = Path(tmp)
        trained, skops_file, mlflow_dir = _models(workdir)
        rows = in_process_rows(trained, mlflow_dir, workdir, quick)
        rows += mcp_rows(trained, skops_file, workdir, quick)
        return rows
