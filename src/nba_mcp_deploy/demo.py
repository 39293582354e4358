"""`nba-mcp-deploy demo`: the product end to end, driven the way an agent drives it.

It trains real NBA models, starts `nba-mcp-deploy serve` as a subprocess, talks to it over stdio
with the MCP client, and prints what happened: deploy -> predict -> A/B -> shadow -> circuit
breaker -> health. The server's own log (JSON lines) goes to `server.log` in the work directory.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from nba_mcp_deploy import nba_models

MODEL_ID = "next_season_impact"
BREAKER_ENV = {
    "NBA_MCP_BREAKER_MIN_CALLS": "20",
    "NBA_MCP_BREAKER_WINDOW": "50",
    "NBA_MCP_BREAKER_OPEN_SEC": "30",
}


class DemoFailure(Exception):
    """A step did not behave as the demo expects (the demo exits non-zero)."""


def server_command() -> tuple[str, list[str]]:
    """The installed console script if present (what mcp.json uses), else `python -m`."""
    script = Path(sys.executable).with_name("nba-mcp-deploy")
    if script.exists():
        return str(script), ["serve"]
    return sys.executable, ["-m", "nba_mcp_deploy", "serve"]


class Session:
    """A thin agent-side wrapper: call a tool, get structured content or the error text."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.calls = 0

    async def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        self.calls += 1
        result = await self.client.call_tool(tool, arguments)
        if result.is_error:
            text = result.content[0].text if result.content else ""  # type: ignore[union-attr]
            raise ToolFailed(tool, text)
        return dict(result.structured_content or {})

    async def call_expecting_error(self, tool: str, **arguments: Any) -> str:
        try:
            await self.call(tool, **arguments)
        except ToolFailed as failure:
            return failure.text
        raise DemoFailure(f"{tool} was expected to fail with {arguments}")


class ToolFailed(Exception):
    def __init__(self, tool: str, text: str) -> None:
        super().__init__(f"{tool}: {text}")
        self.tool = tool
        self.text = text


def heading(number: int, title: str) -> None:
    print(f"\n{number}. {title}\n{'-' * (len(title) + 3)}")


def line(text: str = "") -> None:
    print(f"   {text}")


@contextmanager
def work_directory(requested: Path | None) -> Iterator[Path]:
    if requested is not None:
        requested.mkdir(parents=True, exist_ok=True)
        yield requested.resolve()
        return
    path = Path(tempfile.mkdtemp(prefix="nba-mcp-demo-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def prepare_models(models_dir: Path, data_roots: list[Path]) -> nba_models.TrainedModels:
    nba_models.quiet_mlflow()
    trained = nba_models.train_on_raptor(data_roots)
    nba_models.save_skops(trained.boosting, models_dir / "next_season_gb.skops")
    base = nba_models.save_mlflow_sklearn(trained.logistic, models_dir / "next_season_logistic", trained.holdout)
    nba_models.save_strict_pyfunc(base, models_dir / "next_season_strict", trained.holdout, models_dir / "code")
    return trained


async def drive(session: Session, trained: nba_models.TrainedModels, models_dir: Path) -> None:
    holdout = trained.holdout
    rows = nba_models.records(holdout)
    labels = holdout["positive_next"].tolist()

    heading(1, "Deploy")
    info = await session.call("deploy_model", model_id=MODEL_ID, version="v1.0", model_uri="next_season_gb.skops")
    v1 = info["versions"][0]
    line(f"v1.0  gradient boosting from next_season_gb.skops: ready in {v1['load_ms']:.0f} ms, active")
    info = await session.call(
        "deploy_model", model_id=MODEL_ID, version="v2.0", model_uri="next_season_logistic", set_active=False
    )
    v2 = next(v for v in info["versions"] if v["version"] == "v2.0")
    line(f"v2.0  logistic regression, MLflow model directory: ready in {v2['load_ms']:.0f} ms, standby")
    error = await session.call_expecting_error(
        "deploy_model", model_id=MODEL_ID, version="v9.0", model_uri="/etc/passwd"
    )
    line(f"refused: {error.split(': ', 1)[1][:150]}...")
    line(f"inputs every version checks: {', '.join(v1['feature_names'])}")

    heading(2, "Predict")
    for index in _famous_rows(holdout):
        row = holdout.iloc[index]
        answer = await session.call("predict", model_id=MODEL_ID, inputs=[rows[index]])
        probability = answer["probabilities"][0][1]
        line(
            f"{row['player_name']:<24} {int(row['season'])}: P(positive RAPTOR in {int(row['season']) + 1}) = "
            f"{probability:.2f}  (actual: {'yes' if labels[index] else 'no'}; {answer['version']}, "
            f"{answer['latency_ms']:.2f} ms in model)"
        )
    bad = {**rows[0], "mp": "lots"}
    error = await session.call_expecting_error("predict", model_id=MODEL_ID, inputs=[bad])
    line("bad input: " + " ".join(error.split())[:170])

    heading(3, "A/B test")
    await session.call("setup_ab_test", model_id=MODEL_ID, versions=["v1.0", "v2.0"], weights=[0.8, 0.2])
    served: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    outcomes: dict[str, float] = {}
    started = time.perf_counter()
    for index, record in enumerate(rows):
        answer = await session.call("predict", model_id=MODEL_ID, inputs=[record])
        served[answer["version"]] += 1
        correct[answer["version"]] += int(answer["predictions"][0] == labels[index])
        outcomes[answer["prediction_ids"][0]] = float(labels[index])
    elapsed = time.perf_counter() - started
    line(f"split 80/20 over {len(rows)} holdout player-seasons ({len(rows) / elapsed:.0f} MCP predictions/s):")
    for version in ("v1.0", "v2.0"):
        share = served[version] / len(rows)
        accuracy = correct[version] / served[version] if served[version] else float("nan")
        line(f"  {version}: {served[version]:>4} requests ({share:.1%}), accuracy on them {accuracy:.1%}")
    reported = await session.call("log_actuals", model_id=MODEL_ID, actuals=outcomes)
    verdict = await session.call("get_ab_test_results", model_id=MODEL_ID)
    accuracy = next(c for c in verdict["comparisons"] if c["metric"] == "accuracy")
    line(
        f"outcomes reported for {reported['matched']} predictions; accuracy B - A = "
        f"{accuracy['difference']:+.3f} (p = {accuracy['p_value']:.2f}, {accuracy['method']})"
    )
    plan = verdict["sample_size"]
    needs = (
        f"; to detect a {plan['min_detectable_effect']:.0%} change in {plan['metric']} it needs "
        f"{plan['still_needed_a']} + {plan['still_needed_b']} more outcomes"
        if plan
        else ""
    )
    line(f"verdict: {verdict['verdict']}{needs}")
    sticky = {}
    for key in ("game-0042", "game-0043", "game-0044"):
        versions = {
            (await session.call("predict", model_id=MODEL_ID, inputs=[rows[1]], request_key=key))["version"]
            for _ in range(10)
        }
        sticky[key] = versions
    line("sticky keys, 10 requests each: " + ", ".join(f"{k} -> {'/'.join(sorted(v))}" for k, v in sticky.items()))
    if any(len(v) != 1 for v in sticky.values()):
        raise DemoFailure("a sticky key reached two versions")
    await session.call("clear_ab_test", model_id=MODEL_ID)

    heading(4, "Shadow")
    await session.call("setup_shadow", model_id=MODEL_ID, version="v2.0", fraction=1.0)
    for record in rows[:300]:
        await session.call("predict", model_id=MODEL_ID, inputs=[record])
    shadow = await _shadow_stats(session, "v2.0", expected=300)
    line(
        f"v2.0 shadowed 300 live requests to v1.0: agreement {shadow['agreement_rate']:.1%}, "
        f"mean |dP| {shadow['mean_abs_difference']:.3f}, errors {shadow['errors']}, "
        f"its latency {shadow['mean_latency_ms']:.2f} ms"
    )
    line("users only ever saw v1.0's answers; switching with set_active_version (blue-green)...")
    info = await session.call("set_active_version", model_id=MODEL_ID, version="v2.0")
    line(f"active: {info['active_version']}, kept for rollback: {info['previous_active']}")

    heading(5, "Circuit breaker")
    info = await session.call("deploy_model", model_id=MODEL_ID, version="v2.1", model_uri="next_season_strict")
    line("v2.1 (v2.0 behind a strict input guard, MLflow pyfunc) is now active")
    corrupted = [{**record, "mp": 9999.0} for record in rows[:40]]
    failures = failovers = 0
    first_failover = None
    for record in corrupted:
        try:
            answer = await session.call("predict", model_id=MODEL_ID, inputs=[record])
        except ToolFailed:
            failures += 1
            continue
        if answer["failover_from"]:
            failovers += 1
            first_failover = first_failover or answer
    line(f"a corrupted stats feed (minutes = 9999) hit v2.1: {failures} model errors, then the breaker opened")
    if first_failover is None:
        raise DemoFailure("the breaker never opened")
    line(
        f"next {failovers} requests failed over: served by {first_failover['version']} "
        f"({first_failover['failover_reason']})"
    )
    health = await session.call("health_check", model_id=MODEL_ID)
    model = health["models"][0]
    breaker = next(v for v in model["versions"] if v["version"] == "v2.1")["breaker"]
    line(f"health: {model['status']} - {'; '.join(model['reasons'])}")
    line(
        f"v2.1 breaker: {breaker['state']}, failure rate {breaker['failure_rate']:.0%}, "
        f"retry in {breaker['retry_in_sec']:.0f} s"
    )
    await session.call("reset_circuit_breaker", model_id=MODEL_ID, version="v2.1")
    answer = await session.call("predict", model_id=MODEL_ID, inputs=[rows[0]])
    line(f"feed fixed, reset_circuit_breaker: next request served by {answer['version']}")

    heading(6, "Health")
    health = await session.call("health_check")
    line(f"server: {health['status']}, ready: {health['ready']}")
    for reason in health["reasons"]:
        line(f"  - {reason}")
    line(f"{'version':<8}{'role':<11}{'breaker':<10}{'requests':>9}{'errors':>8}{'p50 ms':>8}{'p95 ms':>8}")
    for version in health["models"][0]["versions"]:
        metrics = version["metrics"]
        latency = metrics["latency"]
        line(
            f"{version['version']:<8}{version['role']:<11}{version['breaker']['state']:<10}{metrics['requests']:>9}"
            f"{metrics['errors']:>8}{_ms(latency['p50_ms']):>8}{_ms(latency['p95_ms']):>8}"
        )
    tools = health["operations"]
    line("tool calls: " + ", ".join(f"{name} {stats['count']}" for name, stats in tools.items()))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _famous_rows(holdout: Any) -> list[int]:
    """Indices of a few well-known players in the holdout seasons (any three if none are found)."""
    wanted = ("LeBron James", "Stephen Curry", "Nikola Jokic", "Giannis Antetokounmpo")
    rows = holdout[holdout["player_name"].isin(wanted)].drop_duplicates("player_name")
    found = [int(i) for i in rows.index[:3]]
    return found or [0, 1, 2]


async def _shadow_stats(session: Session, version: str, expected: int) -> dict[str, Any]:
    """The shadow's comparison once it has processed `expected` mirrors (it runs in the background)."""
    deadline = time.monotonic() + 10
    while True:
        health = await session.call("health_check", model_id=MODEL_ID)
        entry = next(v for v in health["models"][0]["versions"] if v["version"] == version)
        shadow = entry["shadow"]
        if shadow and shadow["mirrored_requests"] + shadow["dropped_requests"] >= expected:
            return dict(shadow)
        if time.monotonic() > deadline:
            raise DemoFailure(f"the shadow processed only {shadow} after 10 s")
        await anyio.sleep(0.05)


async def run(workdir: Path, base_env: dict[str, str]) -> None:
    models_dir = workdir / "models"
    registry_dir = workdir / "registry"
    data_roots = [Path.cwd() / "data"]
    print("nba-mcp-deploy demo")
    print("===================")
    print(f"work directory: {workdir}")
    started = time.perf_counter()
    trained = prepare_models(models_dir, data_roots)
    print(
        f"trained on FiveThirtyEight RAPTOR 2014-2019 (CC BY 4.0) in {time.perf_counter() - started:.1f} s; "
        f"holdout 2020-2021 accuracy: v1.0 {trained.accuracy['v1.0']:.1%}, v2.0 {trained.accuracy['v2.0']:.1%} "
        f"({len(trained.holdout)} player-seasons)"
    )
    command, args = server_command()
    env = {
        **{k: v for k, v in base_env.items() if not k.startswith("NBA_MCP_")},
        "MODEL_REGISTRY_DIR": str(registry_dir),
        "NBA_MCP_MODEL_ROOTS": str(models_dir),
        "NBA_MCP_DATA_ROOTS": os.pathsep.join(str(r) for r in data_roots),
        **BREAKER_ENV,
        # A fixed seed makes the A/B split and the shadow sample the same on every run.
        "NBA_MCP_ROUTING_SEED": "2026",
    }
    params = StdioServerParameters(command=command, args=args, env=env, cwd=str(workdir))
    log_path = workdir / "server.log"
    with log_path.open("w") as server_log:
        spawned = time.perf_counter()
        async with Client(stdio_client(params, errlog=server_log)) as client:
            tools = await client.list_tools()
            print(
                f"server: `{Path(command).name} {' '.join(args)}` over stdio, {len(tools.tools)} tools listed "
                f"{(time.perf_counter() - spawned) * 1000:.0f} ms after spawn"
            )
            session = Session(client)
            await drive(session, trained, models_dir)
    print(f"\ndone: {session.calls} tool calls in {time.perf_counter() - started:.1f} s; server log: {log_path}")


def run_demo(workdir: Path | None, base_env: dict[str, str]) -> int:
    try:
        with work_directory(workdir) as path:
            anyio.run(run, path, base_env)
    except Exception as failure:
        cause = _innermost(failure)  # the MCP client wraps what went wrong in exception groups
        if not isinstance(cause, DemoFailure | ToolFailed | FileNotFoundError):
            raise cause from failure
        print(f"\ndemo failed: {cause}", file=sys.stderr)
        return 1
    return 0


def _innermost(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error
