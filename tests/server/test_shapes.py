"""`server/shapes.py` is the core's result classes and rules, copied by tools/gen_shapes.py so the
server can publish them without importing NumPy; a copy that no longer matches the core fails here."""

from __future__ import annotations

import subprocess
import sys

from nba_mcp_deploy.server import shapes
from nba_mcp_deploy.server.outputs import show
from nba_mcp_deploy.serving.breaker import BreakerSnapshot, BreakerState
from tests.conftest import REPO, subprocess_env


def test_the_copies_match_the_core() -> None:
    done = subprocess.run(
        [sys.executable, "tools/gen_shapes.py", "--check"],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_a_core_instance_is_shown_through_the_model_of_its_copy() -> None:
    snapshot = BreakerSnapshot(BreakerState.OPEN, 0.5, 10, 5, 1.0, 31.0, 30.0, 1, 2)
    shown = show(snapshot)
    assert type(shown).__name__ == "BreakerSnapshot"
    assert shown.model_dump(mode="json") == {
        "state": "open",
        "failure_rate": 0.5,
        "calls_in_window": 10,
        "failures_in_window": 5,
        "opened_at": 1.0,
        "retry_at": 31.0,
        "retry_in_sec": 30.0,
        "times_opened": 1,
        "rejected_calls": 2,
    }
    assert shapes.MIRRORS["nba_mcp_deploy.serving.breaker.BreakerSnapshot"] is shapes.BreakerSnapshot
