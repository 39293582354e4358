"""tritonclient 2.73 (NVIDIA's Open Inference Protocol clients, HTTP and gRPC) against a real server:
binary tensors (their default) and JSON, FP64/FP32/INT64 inputs, compressed bodies, metadata,
probes, tokens and sticky A/B keys, all answered as the model answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels
from tests.server.inference_server import InferenceServer, inference_server

pytestmark = pytest.mark.slow

ROWS = 6
DTYPES = {"FP64": np.float64, "FP32": np.float32, "INT64": np.int64}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[InferenceServer]:
    with inference_server(tmp_path_factory.mktemp("triton"), nba) as server:
        server.deploy("nba", "v1.0", "logistic_mlflow")
        server.deploy("ab", "v1.0", "gb.skops")
        server.deploy("ab", "v2.0", "logistic_mlflow")
        server.tool("setup_ab_test", model_id="ab", versions=["v1.0", "v2.0"], weights=[0.5, 0.5])
        yield server


def features(nba: NbaModels, datatype: str) -> np.ndarray:
    """The first rows as the datatype sends them (FP32 rounded, INT64 truncated)."""
    return nba.trained.holdout[FEATURES].iloc[:ROWS].to_numpy().astype(DTYPES[datatype])


def expected(nba: NbaModels, matrix: np.ndarray) -> np.ndarray:
    import pandas as pd

    return nba.trained.logistic.predict_proba(pd.DataFrame(matrix.astype(np.float64), columns=FEATURES))


def per_feature(module, matrix: np.ndarray, datatype: str, binary: bool) -> list:
    inputs = []
    for index, name in enumerate(FEATURES):
        tensor = module.InferInput(name, [ROWS], datatype)
        column = np.ascontiguousarray(matrix[:, index])
        if module is httpclient:
            tensor.set_data_from_numpy(column, binary_data=binary)
        else:
            tensor.set_data_from_numpy(column)
        inputs.append(tensor)
    return inputs


@pytest.mark.parametrize("datatype", list(DTYPES))
@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_http_client_binary_and_json_tensors(
    served: InferenceServer, nba: NbaModels, datatype: str, binary: bool
) -> None:
    client = httpclient.InferenceServerClient(served.http_address)
    matrix = features(nba, datatype)
    outputs = [httpclient.InferRequestedOutput(name, binary_data=binary) for name in ("predict", "predict_proba")]
    result = client.infer(
        "nba",
        per_feature(httpclient, matrix, datatype, binary),
        outputs=outputs,
        headers=served.bearer(),
        request_id="t1",
    )
    want = expected(nba, matrix)
    np.testing.assert_allclose(result.as_numpy("predict_proba"), want, rtol=1e-12)
    assert result.as_numpy("predict").tolist() == np.argmax(want, axis=1).tolist()
    response = result.get_response()
    assert response["model_version"] == "v1.0" and response["id"] == "t1"


def test_http_client_defaults_to_binary_outputs_and_sends_a_matrix(served: InferenceServer, nba: NbaModels) -> None:
    client = httpclient.InferenceServerClient(served.http_address)
    matrix = features(nba, "FP64")
    tensor = httpclient.InferInput("input-0", list(matrix.shape), "FP64")
    tensor.set_data_from_numpy(matrix)  # an unnamed [N, F] tensor in the model's own feature order
    result = client.infer("nba", [tensor], headers=served.bearer())  # no outputs: binary_data_output
    assert result.get_response()["outputs"][1]["parameters"]["binary_data_size"] == ROWS * 2 * 8
    np.testing.assert_allclose(result.as_numpy("predict_proba"), expected(nba, matrix), rtol=1e-12)


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_http_client_compressed_requests_and_responses(served: InferenceServer, nba: NbaModels, coding: str) -> None:
    client = httpclient.InferenceServerClient(served.http_address)
    matrix = features(nba, "FP64")
    outputs = [httpclient.InferRequestedOutput("predict_proba", binary_data=False)]
    result = client.infer(
        "nba",
        per_feature(httpclient, matrix, "FP64", False),
        outputs=outputs,
        headers=served.bearer(),
        request_compression_algorithm=coding,
        response_compression_algorithm=coding,
    )
    np.testing.assert_allclose(result.as_numpy("predict_proba"), expected(nba, matrix), rtol=1e-12)


def test_http_client_probes_metadata_and_tokens(served: InferenceServer) -> None:
    client = httpclient.InferenceServerClient(served.http_address)
    assert client.is_server_live() and client.is_server_ready()
    assert "binary_tensor_data" in client.get_server_metadata()["extensions"]
    assert client.is_model_ready("nba", headers=served.bearer())
    meta = client.get_model_metadata("nba", headers=served.bearer())
    assert [t["name"] for t in meta["inputs"]] == FEATURES and meta["versions"] == ["v1.0"]
    with pytest.raises(InferenceServerException, match=r"\[401\] invalid_token"):  # a JSON body, parsed
        client.get_model_metadata("nba")
    with pytest.raises(InferenceServerException, match="no deployed version"):
        client.get_model_metadata("nba", model_version="v9", headers=served.bearer())


@pytest.mark.parametrize("datatype", list(DTYPES))
def test_grpc_client_raw_tensors(served: InferenceServer, nba: NbaModels, datatype: str) -> None:
    client = grpcclient.InferenceServerClient(served.grpc_address)
    matrix = features(nba, datatype)
    outputs = [grpcclient.InferRequestedOutput("predict"), grpcclient.InferRequestedOutput("predict_proba")]
    result = client.infer(
        "nba",
        per_feature(grpcclient, matrix, datatype, True),
        outputs=outputs,
        headers=served.bearer(),
        request_id="g1",
    )
    want = expected(nba, matrix)
    np.testing.assert_allclose(result.as_numpy("predict_proba"), want, rtol=1e-12)
    assert result.as_numpy("predict").tolist() == np.argmax(want, axis=1).tolist()
    response = result.get_response()
    assert response.model_version == "v1.0" and response.id == "g1"


def test_grpc_client_probes_metadata_tokens_and_errors(served: InferenceServer, nba: NbaModels) -> None:
    client = grpcclient.InferenceServerClient(served.grpc_address)
    assert client.is_server_live() and client.is_server_ready()
    assert "binary_tensor_data" in client.get_server_metadata(as_json=True)["extensions"]
    assert client.is_model_ready("nba", headers=served.bearer())
    meta = client.get_model_metadata("nba", headers=served.bearer(), as_json=True)
    assert [t["name"] for t in meta["inputs"]] == FEATURES
    assert meta["outputs"][1]["shape"] == ["-1", "2"]  # int64 in proto JSON
    tensor = grpcclient.InferInput("mp", [1], "FP64")
    tensor.set_data_from_numpy(np.array([2000.0]))
    with pytest.raises(InferenceServerException) as unauthenticated:
        client.infer("nba", [tensor])
    assert unauthenticated.value.status() == "StatusCode.UNAUTHENTICATED"
    with pytest.raises(InferenceServerException) as invalid:
        client.infer("nba", [tensor], headers=served.bearer())
    assert invalid.value.status() == "StatusCode.INVALID_ARGUMENT" and "missing" in invalid.value.message()
    with pytest.raises(InferenceServerException) as unknown:
        client.infer("ghost", [tensor], headers=served.bearer())
    assert unknown.value.status() == "StatusCode.NOT_FOUND"


def test_typed_grpc_contents_as_kserve_and_mlserver_clients_send_them(served: InferenceServer, nba: NbaModels) -> None:
    import grpc

    from nba_mcp_deploy.codecs import oip_proto

    matrix = features(nba, "FP64")
    request = oip_proto.ModelInferRequest(
        model_name="nba",
        inputs=[
            {"name": name, "datatype": "FP64", "shape": [ROWS], "contents": {"fp64_contents": matrix[:, i].tolist()}}
            for i, name in enumerate(FEATURES)
        ],
    )
    with grpc.insecure_channel(served.grpc_address) as channel:
        infer = channel.unary_unary(
            f"/{oip_proto.SERVICE}/ModelInfer",
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=oip_proto.ModelInferResponse.FromString,
        )
        response = infer(request, metadata=[("authorization", f"Bearer {served.tokens['viewer']}")])
    proba = next(o for o in response.outputs if o.name == "predict_proba")
    assert list(response.raw_output_contents) == []  # answered in kind: typed contents
    np.testing.assert_allclose(np.reshape(proba.contents.fp64_contents, (ROWS, 2)), expected(nba, matrix), rtol=1e-12)
    assert json.loads(proba.parameters["classes"].string_param) == [0, 1]


def test_sticky_keys_route_alike_over_http_and_grpc(served: InferenceServer, nba: NbaModels) -> None:
    http = httpclient.InferenceServerClient(served.http_address)
    grpc_client = grpcclient.InferenceServerClient(served.grpc_address)
    matrix = features(nba, "FP64")[:1]
    versions = {}
    for key in range(12):
        headers = {**served.bearer(), "x-request-key": f"fan-{key}"}
        # tritonclient's HTTP client adds its own headers to the dict it is given: one copy each
        by_http = http.infer("ab", [_matrix_input(httpclient, matrix)], headers=dict(headers)).get_response()
        by_grpc = grpc_client.infer("ab", [_matrix_input(grpcclient, matrix)], headers=dict(headers)).get_response()
        assert by_http["model_version"] == by_grpc.model_version
        assert by_grpc.parameters["routed_by"].string_param == "ab_sticky"
        versions[key] = by_grpc.model_version
    assert set(versions.values()) == {"v1.0", "v2.0"}


def _matrix_input(module, matrix: np.ndarray):
    tensor = module.InferInput("input-0", list(matrix.shape), "FP64")
    tensor.set_data_from_numpy(matrix)
    return tensor


def test_unknown_routes_and_methods_answer_json_the_client_can_read(served: InferenceServer, tmp_path: Path) -> None:
    import httpx2

    base = served.server.base_url
    missing = httpx2.get(base + "/v2/nowhere", timeout=10)
    wrong = httpx2.get(base + "/v2/models/nba/infer", headers=served.bearer(), timeout=10)
    assert missing.status_code == 404 and missing.json() == {"error": "no route /v2/nowhere"}
    assert wrong.status_code == 405 and "POST" in wrong.json()["error"] and wrong.headers["allow"] == "POST"
    client = httpclient.InferenceServerClient(served.http_address)
    with pytest.raises(InferenceServerException, match="no route"):  # once "Parse error" on text/plain
        client.unload_model("nba")
