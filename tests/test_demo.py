"""The README's first command runs this demo: it must finish and tell the whole story."""

from __future__ import annotations

import re
import subprocess

import pytest
from scipy.stats import binomtest

from tests.conftest import REPO, console_script, subprocess_env

pytestmark = pytest.mark.slow


def test_demo_runs_end_to_end(tmp_path) -> None:
    done = subprocess.run(
        [str(console_script()), "demo", "--workdir", str(tmp_path / "demo")],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-3000:]
    for section in ("1. Deploy", "2. Predict", "3. A/B test", "4. Shadow", "5. Circuit breaker", "6. Health"):
        assert section in out
    counts = {v: int(n) for v, n in re.findall(r"(v[12]\.0): +(\d+) requests \(", out)}
    assert sorted(counts) == ["v1.0", "v2.0"] and sum(counts.values()) == 658, out
    # The split is 80/20 (binomial test against 0.8; the demo fixes the routing seed, so this is stable).
    assert binomtest(counts["v1.0"], 658, 0.8).pvalue > 1e-3, out
    assert re.search(r"outcomes reported for 658 predictions; accuracy B - A = [+-]0\.\d+ \(p = ", out)
    assert re.search(r"verdict: (not_enough_data|no_difference|a_better|b_better)", out)
    assert "refused: permission denied" in out
    assert "then the breaker opened" in out and "failed over: served by v2.0" in out
    assert "next request served by v2.1" in out
    assert not done.stderr.strip(), "the demo's own stderr should be quiet (the server logs to server.log)"
    log_lines = (tmp_path / "demo" / "server.log").read_text().splitlines()
    assert any('"tool": "deploy_model"' in line for line in log_lines)
