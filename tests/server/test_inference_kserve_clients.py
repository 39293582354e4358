"""KServe 0.21's own clients (InferenceRESTClient and InferenceGRPCClient) against a real server.
KServe pins pandas<3, so they run in their own venv (tools/side_venv.py), from a script that
prints what they received; its creation is skipped without a package registry, except in CI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nba_mcp_deploy.nba_models import FEATURES
from tests.ci import in_ci
from tests.conftest import REPO, NbaModels
from tests.server.inference_server import InferenceServer, inference_server

pytestmark = pytest.mark.slow
SCRIPT = Path(__file__).with_name("kserve_clients.py")
ROWS = 5


@pytest.fixture(scope="module")
def kserve_python() -> Path:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        from side_venv import KSERVE
    finally:
        sys.path.remove(str(REPO / "tools"))
    problem = KSERVE.ensure()
    if problem is not None:
        if in_ci():
            pytest.fail(problem)
        pytest.skip(problem)
    return KSERVE.python


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[InferenceServer]:
    with inference_server(tmp_path_factory.mktemp("kserve"), nba) as server:
        server.deploy("nba", "v1.0", "logistic_mlflow")
        yield server


def test_kserve_rest_and_grpc_clients_get_the_models_answers(
    kserve_python: Path, served: InferenceServer, nba: NbaModels
) -> None:
    frame = nba.trained.holdout[FEATURES].iloc[:ROWS]
    columns = {name: frame[name].tolist() for name in FEATURES}
    done = subprocess.run(
        [
            str(kserve_python),
            str(SCRIPT),
            served.server.base_url,
            served.grpc_address,
            served.tokens["viewer"],
            "nba",
            json.dumps(columns),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["server_ready"] and found["model_ready"] and found["grpc_server_ready"]
    fp32 = frame.to_numpy().astype(np.float32).astype(np.float64)
    expected = {
        "FP64": nba.trained.logistic.predict_proba(frame),
        "FP32": nba.trained.logistic.predict_proba(frame.__class__(fp32, columns=FEATURES)),
    }
    for key in ("rest_json_FP64", "rest_binary_FP64", "rest_json_FP32", "rest_binary_FP32", "grpc_FP64"):
        want = expected[key.rsplit("_", 1)[1]]
        np.testing.assert_allclose(np.reshape(found[key]["predict_proba"], want.shape), want, rtol=1e-12, err_msg=key)
        assert found[key]["predict"] == np.argmax(want, axis=1).tolist(), key
