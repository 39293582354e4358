"""The NaN pipeline (sqrt of a negative feature, then a logistic regression) on every surface: MCP
`predict`, OIP REST, OIP gRPC and `/invocations` each answer an error, never a prediction, and
each trips the version's breaker (five failures in a window of ten), after which the server is
not ready (the Open Inference Protocol's server-ready: every model ready)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import httpx2
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels
from tests.inference_models import negative_records
from tests.server.http_server import connect
from tests.server.inference_server import InferenceServer, inference_server, nan_model_uri

pytestmark = [pytest.mark.slow]
FAILURES_TO_OPEN = 5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[InferenceServer]:
    with inference_server(tmp_path_factory.mktemp("nan"), nba) as server:
        for surface in ("mcp", "rest", "grpc", "invocations"):
            server.deploy(f"nan-{surface}", "v1.0", nan_model_uri(nba))
        yield server


def record(nba: NbaModels) -> dict[str, float]:
    return negative_records(nba.trained)[0]


def assert_breaker_open(served: InferenceServer, model: str) -> None:
    health = served.tool("health_check", model_id=model)
    version = health["models"][0]["versions"][0]
    assert version["breaker"]["state"] == "open", version["breaker"]
    assert version["metrics"]["errors"] == FAILURES_TO_OPEN
    samples = served.server.metrics()
    assert samples[f'nba_mcp_predict_errors_total{{model_id="{model}",version="v1.0"}}'] == FAILURES_TO_OPEN


def test_mcp_predict(served: InferenceServer, nba: NbaModels) -> None:
    async def calls() -> list[Any]:
        async with connect(served.server, served.tokens["viewer"]) as client:
            arguments = {"model_id": "nan-mcp", "inputs": [record(nba)]}
            return [await client.call_tool("predict", arguments) for _ in range(FAILURES_TO_OPEN + 1)]

    *failed, refused = anyio.run(calls)
    for result in failed:
        assert result.is_error and "Input X contains NaN" in result.content[0].text
    assert refused.is_error and "circuit breaker" in refused.content[0].text
    assert_breaker_open(served, "nan-mcp")


def test_oip_rest(served: InferenceServer, nba: NbaModels) -> None:
    body = {"inputs": [{"name": k, "shape": [1], "datatype": "FP64", "data": [v]} for k, v in record(nba).items()]}
    url = f"{served.server.base_url}/v2/models/nan-rest/infer"
    for _ in range(FAILURES_TO_OPEN):
        answer = httpx2.post(url, json=body, headers=served.bearer(), timeout=30)
        assert answer.status_code == 500 and "Input X contains NaN" in answer.json()["error"], answer.text
    assert httpx2.post(url, json=body, headers=served.bearer(), timeout=30).status_code == 503
    assert_breaker_open(served, "nan-rest")


def test_oip_grpc(served: InferenceServer, nba: NbaModels) -> None:
    client = grpcclient.InferenceServerClient(served.grpc_address)
    inputs = []
    for name, value in record(nba).items():
        tensor = grpcclient.InferInput(name, [1], "FP64")
        tensor.set_data_from_numpy(np.array([value]))
        inputs.append(tensor)
    for _ in range(FAILURES_TO_OPEN):
        with pytest.raises(InferenceServerException) as failed:
            client.infer("nan-grpc", inputs, headers=served.bearer())
        assert failed.value.status() == "StatusCode.INTERNAL" and "Input X contains NaN" in failed.value.message()
    with pytest.raises(InferenceServerException) as refused:
        client.infer("nan-grpc", inputs, headers=served.bearer())
    assert refused.value.status() == "StatusCode.UNAVAILABLE"
    assert_breaker_open(served, "nan-grpc")


def test_invocations(served: InferenceServer, nba: NbaModels) -> None:
    url = f"{served.server.base_url}/v1/models/nan-invocations/invocations"
    body = {"dataframe_split": {"columns": FEATURES, "data": [[record(nba)[c] for c in FEATURES]]}}
    for _ in range(FAILURES_TO_OPEN):
        answer = httpx2.post(url, json=body, headers=served.bearer(), timeout=30)
        assert answer.status_code == 500 and answer.json()["error_code"] == "INTERNAL_ERROR", answer.text
        assert "Input X contains NaN" in answer.json()["message"]
    assert httpx2.post(url, json=body, headers=served.bearer(), timeout=30).status_code == 503
    assert_breaker_open(served, "nan-invocations")


def test_a_model_with_an_open_breaker_makes_the_server_not_ready(served: InferenceServer, nba: NbaModels) -> None:
    served.deploy("nan-ready", "v1.0", nan_model_uri(nba))
    base = served.server.base_url
    before = httpx2.get(base + "/v2/health/ready", timeout=10)  # other tests here may have opened breakers
    assert before.status_code == 200 or "nan-ready" not in before.json()["reason"]
    body = {"dataframe_records": [record(nba)]}
    for _ in range(FAILURES_TO_OPEN):
        httpx2.post(f"{base}/v1/models/nan-ready/invocations", json=body, headers=served.bearer(), timeout=30)
    ready = httpx2.get(base + "/v2/health/ready", timeout=10)
    assert ready.status_code == 503 and "nan-ready" in ready.json()["reason"]
    assert grpcclient.InferenceServerClient(served.grpc_address).is_server_ready() is False
    assert httpx2.get(base + "/ping", timeout=10).status_code == 503
