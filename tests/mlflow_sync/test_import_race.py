"""The relay and a tool call importing mlflow at the same moment both get a whole mlflow.

When each imported its submodule directly, three threads entering mlflow at once failed every
time with `ImportError: cannot import name ... from 'mlflow.entities'` (see
mlflow_sync/importing.py). Run in a fresh interpreter, since this one imported mlflow long ago.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import NbaModels, subprocess_env

pytestmark = pytest.mark.slow

RACE = """
import sys, tempfile, threading
from pathlib import Path
from nba_mcp_deploy.loading.mlflow_models import load_local_mlflow_model
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway

gateway = MlflowGateway(f"sqlite:///{tempfile.mkdtemp()}/mlflow.db", experiment_name="race")
start = threading.Barrier(3)
errors = []

def run(call):
    start.wait()
    try:
        call()
    except Exception as exc:
        errors.append(repr(exc))

calls = [
    lambda: gateway.client,  # the relay connecting
    lambda: gateway.log_batch("no-run", metrics={}),  # the relay logging (mlflow.entities)
    lambda: load_local_mlflow_model(Path(sys.argv[1]), source="race"),  # a deploy (mlflow.models)
]
threads = [threading.Thread(target=run, args=(call,)) for call in calls]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(errors)
sys.exit(1 if errors else 0)
"""


def test_concurrent_first_imports_of_mlflow_all_succeed(nba: NbaModels) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RACE, str(Path(nba.mlflow_dir))],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
