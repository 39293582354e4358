"""The examples run as a user would run them (from the repository root) and print what they claim."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import REPO, subprocess_env

pytestmark = pytest.mark.slow


def run_example(name: str) -> str:
    command = [sys.executable, f"examples/{name}"]
    done = subprocess.run(command, cwd=REPO, env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_basic_serving() -> None:
    out = run_example("basic_serving.py")
    assert len(re.findall(r"^v1\.0 .*P\(positive RAPTOR next season\) = 0\.\d\d$", out, re.M)) == 3
    assert len(re.findall(r"^v2\.0 .*= 0\.\d\d$", out, re.M)) == 3
    assert "health: healthy; active v2.0; requests [1, 1]" in out


def test_drift_detection() -> None:
    out = run_example("drift_detection.py")
    ks = out.split("\nks:")[1].split("\n\n")[0]
    assert re.search(r"^  mp +score=0\.1\d+ p=\S+ +drift=True$", ks, re.M)
    assert re.search(r"^  poss +score=\S+ p=\S+ +drift=True$", ks, re.M)
    assert "random halves of 2021-2022 (no real drift): 0 features drifted" in out
    assert "alert [warning] 2/6 features drifted (ks" in out


def test_ab_testing() -> None:
    out = run_example("ab_testing.py")
    assert "served 658 player-seasons split 50/50 by player id; 658 outcomes reported" in out
    assert re.search(r"^  v1\.0: \d+ requests, \d+ players, accuracy 0\.\d+", out, re.M)
    assert re.search(r"^  accuracy: B - A = [+-]0\.\d+ \(\d+% CI .*p = ", out, re.M)
    assert re.search(r"^verdict: (not_enough_data|no_difference|a_better|b_better) - ", out, re.M)


def test_production_deployment() -> None:
    out = run_example("production_deployment.py")
    assert "v1.0 in production; serving active: v1.0" in out
    assert "promoted       candidate at 100%" in out
    assert "registry production: v2.0; serving active: v2.0" in out
    assert re.search(r"drifted: \[.*'mp'.*\]", out)
    assert "alert [warning]" in out or "alert [critical]" in out
    assert "production: v1.0 (was v2.0); serving active: v1.0" in out


def test_the_examples_use_the_python_api() -> None:
    """They build the seed document's objects, not the services underneath."""
    for example in sorted((REPO / "examples").glob("*.py")):
        source = example.read_text()
        assert "from nba_mcp_deploy import " in source, example.name
        assert "build_services" not in source and "DeploymentConfig(" not in source, example.name
