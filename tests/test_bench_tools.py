"""The benchmark tooling itself must run: every suite imports, and the echo baseline serves.

No timing is asserted here (figures belong in tools/bench.py and docs/benchmarks.md); this only
catches a suite that no longer imports or a baseline server that no longer starts.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from nba_mcp_deploy import nba_models
from tests.conftest import REPO, NbaModels, subprocess_env

pytestmark = pytest.mark.anyio


def test_every_suite_imports_and_has_a_runner() -> None:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        bench = importlib.import_module("bench")
        for suite in bench.SUITES:
            module = importlib.import_module(f"benchmarks.{suite}")
            assert callable(module.run), suite
    finally:
        sys.path.remove(str(REPO / "tools"))


def test_bench_refuses_an_unknown_suite() -> None:
    done = subprocess.run(
        [sys.executable, "tools/bench.py", "nonsense"], cwd=REPO, env=subprocess_env(), capture_output=True, text=True
    )
    assert done.returncode == 2 and "invalid choice: 'nonsense'" in done.stderr


async def test_the_echo_baseline_server_starts_as_the_serving_suite_runs_it(tmp_path) -> None:
    # Run as a script from its own directory first on sys.path, with a bare environment, like
    # benchmarks/serving.py: nothing beside it may shadow the standard library.
    params = StdioServerParameters(
        command=sys.executable,
        args=[str(REPO / "tools" / "echo_server.py")],
        env={"PYTHONPATH": str(REPO / "src")},
        cwd=str(tmp_path),
    )
    with anyio.fail_after(60), open(tmp_path / "stderr.log", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            tools = await client.list_tools()
            result = await client.call_tool("echo", {"text": "x"})
    assert [t.name for t in tools.tools] == ["echo"]
    assert result.content[0].text == "x"


async def test_the_bare_model_baseline_server_scores_as_the_model_does(tmp_path, nba: NbaModels) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=[str(REPO / "tools" / "model_server.py"), str(nba.skops_file), *nba_models.FEATURES],
        env={"PYTHONPATH": str(REPO / "src")},
        cwd=str(tmp_path),
    )
    records = nba.records(2)
    with anyio.fail_after(60), open(tmp_path / "stderr.log", "w") as errlog:
        async with Client(stdio_client(params, errlog=errlog)) as client:
            result = await client.call_tool("predict", {"inputs": records})
    assert not result.is_error, result.content
    matrix = nba.trained.holdout[nba_models.FEATURES].iloc[:2].to_numpy()
    expected = nba.trained.boosting.predict_proba(matrix).tolist()
    assert result.structured_content == {"result": expected}
