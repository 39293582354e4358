"""The registry core and the sqlite store import neither mcp nor mlflow (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def test_registry_and_store_import_without_mcp_or_mlflow():
    code = (
        "import sys\n"
        "import nba_mcp_deploy.registry, nba_mcp_deploy.stores.sqlite\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('mcp', 'mlflow', 'sqlalchemy'))\n"
        "assert not bad, bad\n"
        "assert nba_mcp_deploy.registry.__file__.startswith(sys.argv[1]), nba_mcp_deploy.registry.__file__\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(SRC)],
        env={"PYTHONPATH": str(SRC)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
