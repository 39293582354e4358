"""Application traffic for real: `nba-mcp-deploy serve --transport http` as a subprocess with
bearer tokens, real NBA models deployed through MCP, and the Open Inference Protocol and MLflow's
scoring protocol spoken to it with `httpx2` on the same port."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pytest

from nba_mcp_deploy.access.tokens import add_token
from nba_mcp_deploy.nba_models import FEATURES
from tests.conftest import NbaModels
from tests.server.http_server import HttpServer, connect, running_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

MAX_PAYLOAD = 256 * 1024
OPEN_SEC = 120


@dataclass(frozen=True)
class Served:
    server: HttpServer
    tokens: dict[str, str]
    nba: NbaModels

    def client(self, role: str | None = "viewer", **headers: str) -> httpx2.AsyncClient:
        if role is not None:
            headers["Authorization"] = f"Bearer {self.tokens[role]}"
        return httpx2.AsyncClient(base_url=self.server.base_url, headers=headers, timeout=60)

    async def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        async with connect(self.server, self.tokens["admin"]) as client:
            result = await client.call_tool(name, arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content

    async def deploy(self, model_id: str, version: str, uri: str, *, active: bool = True) -> None:
        await self.tool("deploy_model", model_id=model_id, version=version, model_uri=uri, set_active=active)


def environment(nba: NbaModels, **extra: str) -> dict[str, str]:
    return {
        "NBA_MCP_MODEL_ROOTS": str(nba.root),
        "NBA_MCP_REGISTRY_FSYNC": "false",
        "NBA_MCP_LOG_LEVEL": "WARNING",
        "NBA_MCP_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD),
        "NBA_MCP_BREAKER_MIN_CALLS": "5",
        "NBA_MCP_BREAKER_WINDOW": "10",
        "NBA_MCP_BREAKER_OPEN_SEC": str(OPEN_SEC),
        **extra,
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("inference")
    tokens_file = workdir / "tokens"
    tokens = {role: add_token(tokens_file, f"{role}-app", role) for role in ("viewer", "admin")}
    with running_server(workdir, **environment(nba, NBA_MCP_AUTH_TOKENS_FILE=str(tokens_file))) as server:
        yield Served(server, tokens, nba)


def frame(nba: NbaModels, count: int, start: int = 0) -> Any:
    return nba.trained.holdout[FEATURES].iloc[start : start + count]


def columns_body(records: list[dict[str, float]], **extra: Any) -> dict[str, Any]:
    """One FP64 tensor per feature."""
    tensors = [
        {"name": name, "shape": [len(records)], "datatype": "FP64", "data": [r[name] for r in records]}
        for name in FEATURES
    ]
    return {"inputs": tensors, **extra}


def output(body: dict[str, Any], name: str) -> np.ndarray:
    found = next(o for o in body["outputs"] if o["name"] == name)
    return np.asarray(found["data"]).reshape(found["shape"])


async def test_probes_and_server_metadata_answer_without_a_token(served: Served) -> None:
    async with served.client(None) as http:
        assert (await http.get("/v2/health/live")).json() == {"live": True}
        assert (await http.get("/v2/health/ready")).json() == {"ready": True}
        meta = (await http.get("/v2")).json()
        assert meta["name"] == "nba-mcp-deploy" and meta["extensions"] == ["binary_tensor_data"]


async def test_inference_without_a_valid_token_is_401(served: Served) -> None:
    await served.deploy("guarded", "v1.0", "logistic_mlflow")
    record = served.nba.records(1)
    for authorization in (None, "Bearer not-a-token", "Basic YWxpY2U6c2VjcmV0"):
        headers = {} if authorization is None else {"Authorization": authorization}
        async with served.client(None, **headers) as http:
            answers = [
                await http.post("/v2/models/guarded/infer", json=columns_body(record)),
                await http.post("/v1/models/guarded/invocations", json={"dataframe_records": record}),
                await http.get("/v2/models/guarded"),
                await http.get("/v2/models/guarded/ready"),
            ]
        for answer in answers:
            assert answer.status_code == 401, answer.text
            assert answer.headers["www-authenticate"].startswith("Bearer")
    async with served.client("viewer") as http:  # READ is enough: the least role infers
        assert (await http.post("/v2/models/guarded/infer", json=columns_body(record))).status_code == 200


async def test_metadata_lists_versions_and_typed_inputs_and_outputs(served: Served) -> None:
    await served.deploy("meta", "v1.0", "gb.skops")
    await served.deploy("meta", "v2.0", "logistic_mlflow")
    async with served.client() as http:
        meta = (await http.get("/v2/models/meta")).json()
        pinned = (await http.get("/v2/models/meta/versions/v1.0")).json()
        ready = await http.get("/v2/models/meta/ready")
        version_ready = await http.get("/v2/models/meta/versions/v1.0/ready")
    assert meta["name"] == "meta" and meta["versions"] == ["v1.0", "v2.0"]
    assert meta["parameters"] == {"described_version": "v2.0", "active_version": "v2.0"}
    assert meta["inputs"] == [{"name": name, "datatype": "FP64", "shape": [-1]} for name in FEATURES]
    assert meta["outputs"] == [
        {"name": "predict", "datatype": "INT64", "shape": [-1]},
        {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 2], "parameters": {"classes": [0, 1]}},
    ]
    assert pinned["versions"] == ["v1.0"] and pinned["parameters"]["described_version"] == "v1.0"
    assert ready.status_code == 200 and ready.json() == {"name": "meta", "ready": True}
    assert version_ready.status_code == 200


async def test_v2_infer_in_every_layout_matches_the_model(served: Served) -> None:
    nba = served.nba
    await served.deploy("oip", "v1.0", "logistic_mlflow")
    records = nba.records(5)
    expected = nba.trained.logistic.predict_proba(frame(nba, 5))
    shuffled = FEATURES[::-1]
    layouts = [
        columns_body(records),
        {"inputs": [{**t, "shape": [5, 1], "data": [[v] for v in t["data"]]} for t in columns_body(records)["inputs"]]},
        {
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [5, len(FEATURES)],
                    "datatype": "FP64",
                    "data": [[r[c] for c in shuffled] for r in records],
                    "parameters": {"columns": shuffled},
                }
            ]
        },
        {  # flat data in the model's own feature order, as MLServer's numpy codec sends it
            "inputs": [
                {
                    "name": "input-0",
                    "shape": [5, len(FEATURES)],
                    "datatype": "FP64",
                    "data": [r[c] for r in records for c in FEATURES],
                }
            ]
        },
    ]
    async with served.client() as http:
        for body in layouts:
            answer = await http.post("/v2/models/oip/infer", json={**body, "id": "game-42"})
            assert answer.status_code == 200, answer.text
            got = answer.json()
            assert (got["model_name"], got["model_version"], got["id"]) == ("oip", "v1.0", "game-42")
            assert answer.headers["x-model-version"] == "v1.0"
            np.testing.assert_allclose(output(got, "predict_proba"), expected, rtol=1e-12)
            assert output(got, "predict").tolist() == np.argmax(expected, axis=1).tolist()
        only = await http.post(
            "/v2/models/oip/versions/v1.0/infer",
            json=columns_body(records[:1], outputs=[{"name": "predict_proba"}]),
        )
    body = only.json()
    assert [o["name"] for o in body["outputs"]] == ["predict_proba"]
    assert body["parameters"]["routed_by"] == "pinned"


async def test_a_single_model_answers_invocations_in_all_four_formats_like_the_model(
    tmp_path: Path, nba: NbaModels
) -> None:
    records = nba.records(6)
    expected = nba.trained.logistic.predict(frame(nba, 6)).tolist()
    split = {"columns": FEATURES, "data": [[r[c] for c in FEATURES] for r in records]}
    by_column = {c: [r[c] for r in records] for c in FEATURES}
    bodies = [
        {"dataframe_split": split},
        {"dataframe_split": {**split, "index": list(range(10, 16))}},
        {"dataframe_records": records},
        {"dataframe_records": [{**r, "player_name": "LeBron James"} for r in records]},  # dropped, as MLflow does
        {"instances": records},
        {"instances": by_column},
        {"inputs": by_column},
        {"inputs": records, "params": {"unused": 1}},
    ]
    with running_server(tmp_path, **environment(nba)) as server:  # no tokens: loopback, the local role
        served = Served(server, {}, nba)
        async with connect(server, None) as client:
            deployed = await client.call_tool(
                "deploy_model", {"model_id": "solo", "version": "v1.0", "model_uri": "logistic_mlflow"}
            )
            assert not deployed.is_error, deployed.content
        async with served.client(None) as http:
            for body in bodies:
                answer = await http.post("/invocations", json=body)
                assert answer.status_code == 200, (body, answer.text)
                assert answer.json() == {"predictions": expected}, body
                assert answer.headers["x-model-version"] == "v1.0"
            csv = ",".join(FEATURES) + "\n" + "\n".join(",".join(repr(r[c]) for c in FEATURES) for r in records)
            answer = await http.post("/invocations", content=csv, headers={"Content-Type": "text/csv"})
            assert answer.json() == {"predictions": expected}
            named = await http.post("/v1/models/solo/invocations", json={"dataframe_records": records[:1]})
            assert named.json() == {"predictions": expected[:1]}
            unnamed = await http.post("/invocations", json={"inputs": [[r[c] for c in FEATURES] for r in records]})
            assert unnamed.status_code == 400 and unnamed.json()["field"] == "inputs[0]"
            # Logged to the monitor like an MCP predict: the request id is the prediction id.
            request_id = named.headers["x-request-id"]
        async with connect(server, None) as client:
            actuals = await client.call_tool("log_actuals", {"model_id": "solo", "actuals": {request_id: 1}})
        assert actuals.structured_content is not None and actuals.structured_content["matched"] == 1


async def test_bad_requests_are_400_naming_the_field_and_what_is_allowed(served: Served) -> None:
    await served.deploy("strict", "v1.0", "logistic_mlflow")
    record = served.nba.records(1)
    text = {"inputs": [{"name": "mp", "shape": [1], "datatype": "BYTES", "data": ["x"]}]}
    short = {"inputs": [{"name": "mp", "shape": [2], "datatype": "FP64", "data": [1.0]}]}
    cases = [
        ("/v2/models/strict/infer", b"{not json", "body"),
        ("/v2/models/strict/infer", text, "inputs[0].datatype"),
        ("/v2/models/strict/infer", short, "inputs[0].data"),
        ("/v2/models/strict/infer", columns_body(record, outputs=[{"name": "explain"}]), "outputs[0].name"),
        ("/v2/models/strict/infer", {"inputs": columns_body(record)["inputs"][1:]}, "inputs"),
        ("/v1/models/strict/invocations", {"records": record}, "body"),
        ("/v1/models/strict/invocations", {"dataframe_records": [{**record[0], "mp": "a lot"}]}, "inputs"),
        ("/invocations", {"dataframe_records": record}, "path"),  # several models deployed: which one?
    ]
    async with served.client() as http:
        for path, body, field in cases:
            content = body if isinstance(body, bytes) else json.dumps(body).encode()
            answer = await http.post(path, content=content, headers={"Content-Type": "application/json"})
            assert answer.status_code == 400, (path, answer.text)
            error = answer.json()
            assert error["field"] and error["allowed"], error
            if field is not None:
                assert error["field"] == field, error
        datatype = await http.post("/v2/models/strict/infer", json=text)
        assert "FP64" in datatype.json()["allowed"]
        missing = await http.post("/v2/models/strict/infer", json={"inputs": columns_body(record)["inputs"][1:]})
        assert "missing [poss]" in missing.json()["error"]
        which = await http.post("/invocations", json={"dataframe_records": record})
        assert "/v1/models/<model>/invocations" in which.json()["message"]
        assert which.json()["error_code"] == "BAD_REQUEST"


async def test_unknown_models_and_versions_are_404(served: Served) -> None:
    await served.deploy("known", "v1.0", "logistic_mlflow")
    record = served.nba.records(1)
    async with served.client() as http:
        answers = [
            await http.post("/v2/models/ghost/infer", json=columns_body(record)),
            await http.post("/v2/models/known/versions/v9.9/infer", json=columns_body(record)),
            await http.post("/v1/models/ghost/invocations", json={"dataframe_records": record}),
            await http.post("/v1/models/known/versions/v9.9/invocations", json={"dataframe_records": record}),
            await http.get("/v2/models/ghost"),
            await http.get("/v2/models/known/versions/v9.9"),
            await http.get("/v2/models/known/versions/v9.9/ready"),
        ]
    for answer in answers:
        assert answer.status_code == 404, answer.text
    assert "deployed: ['v1.0']" in answers[1].json()["error"]
    assert answers[2].json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


async def test_payload_limits_and_media_types(served: Served) -> None:
    await served.deploy("limited", "v1.0", "logistic_mlflow")
    huge = json.dumps({"dataframe_records": served.nba.records(1) * 3000}).encode()
    assert len(huge) > MAX_PAYLOAD

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 8192):
            yield huge[start : start + 8192]

    async with served.client() as http:
        declared = await http.post("/v1/models/limited/invocations", content=huge)
        streamed = await http.post("/v1/models/limited/invocations", content=chunks())
        text = await http.post("/v1/models/limited/invocations", content=b"x", headers={"Content-Type": "text/plain"})
    assert declared.status_code == 413 and "NBA_MCP_MAX_PAYLOAD_BYTES" in declared.json()["error_description"]
    assert streamed.status_code == 413 and "NBA_MCP_MAX_PAYLOAD_BYTES" in streamed.json()["message"]
    assert text.status_code == 415 and "text/csv" in text.json()["message"]


async def test_an_open_breaker_fails_over_or_answers_503_with_retry_after(served: Served) -> None:
    # v2.1 refuses implausible minutes (a corrupted feed): five failures open its breaker.
    await served.deploy("fragile", "v2.1", "strict_mlflow")
    await served.deploy("sturdy", "v2.0", "logistic_mlflow")
    await served.deploy("sturdy", "v2.1", "strict_mlflow")  # active; v2.0 stays as the rollback target
    corrupt = [{**served.nba.records(1)[0], "mp": 9999.0}]
    async with served.client() as http:
        for model in ("fragile", "sturdy"):
            for _ in range(5):
                failed = await http.post(f"/v1/models/{model}/invocations", json={"dataframe_records": corrupt})
                assert failed.status_code == 500 and "implausible minutes" in failed.json()["message"]
        refused = await http.post("/v2/models/fragile/infer", json=columns_body(corrupt))
        mlflow_refused = await http.post("/v1/models/fragile/invocations", json={"dataframe_records": corrupt})
        not_ready = await http.get("/v2/models/fragile/ready")
        rescued = await http.post("/v2/models/sturdy/infer", json=columns_body(served.nba.records(1)))
    assert refused.status_code == 503 and mlflow_refused.status_code == 503
    assert 1 <= int(refused.headers["retry-after"]) <= OPEN_SEC
    assert "circuit breaker for fragile v2.1 is open" in refused.json()["error"]
    assert mlflow_refused.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
    assert not_ready.status_code == 503 and not_ready.json()["ready"] is False
    assert rescued.status_code == 200
    assert rescued.json()["model_version"] == "v2.0" and rescued.json()["parameters"]["failover_from"] == "v2.1"


async def test_ab_split_and_sticky_keys_over_http(served: Served) -> None:
    await served.deploy("ab", "v1.0", "gb.skops")
    await served.deploy("ab", "v2.0", "logistic_mlflow", active=False)
    await served.tool("setup_ab_test", model_id="ab", versions=["v1.0", "v2.0"], weights=[0.5, 0.5])
    body = columns_body(served.nba.records(1))
    async with served.client() as http:
        random_split = Counter()
        for _ in range(120):
            answer = (await http.post("/v2/models/ab/infer", json=body)).json()
            assert answer["parameters"]["routed_by"] == "ab_random"
            random_split[answer["model_version"]] += 1
        sticky = []
        for _ in range(15):
            answer = await http.post("/v2/models/ab/infer", json=body, headers={"x-request-key": "fan-7"})
            sticky.append((answer.json()["model_version"], answer.json()["parameters"]["routed_by"]))
        by_key = {}
        for key in range(40):
            answer = await http.post(
                "/v1/models/ab/invocations",
                json={"dataframe_records": served.nba.records(1)},
                headers={"x-request-key": f"fan-{key}"},
            )
            by_key[key] = answer.headers["x-model-version"]
        again = await http.post(
            "/v1/models/ab/invocations",
            json={"dataframe_records": served.nba.records(1)},
            headers={"x-request-key": "fan-3"},
        )
    assert set(random_split) == {"v1.0", "v2.0"} and min(random_split.values()) >= 30, random_split
    assert len(set(sticky)) == 1 and sticky[0][1] == "ab_sticky"
    assert set(by_key.values()) == {"v1.0", "v2.0"}
    assert again.headers["x-model-version"] == by_key[3]


async def test_batching_gives_32_concurrent_callers_their_own_rows_in_fewer_model_calls(served: Served) -> None:
    nba = served.nba
    await served.deploy("batched", "v1.0", "logistic_mlflow")
    deployment = await served.tool("set_batching", model_id="batched", max_batch_size=32, max_wait_ms=200.0)
    assert deployment["batching"] == {"max_batch_size": 32, "max_wait_ms": 200.0}
    records = nba.records(32)
    expected = nba.trained.logistic.predict_proba(frame(nba, 32))
    limits = httpx2.Limits(max_connections=32, max_keepalive_connections=32)
    async with httpx2.AsyncClient(
        base_url=served.server.base_url,
        headers={"Authorization": f"Bearer {served.tokens['viewer']}"},
        limits=limits,
        timeout=60,
    ) as http:

        async def one(index: int) -> httpx2.Response:
            return await http.post("/v2/models/batched/infer", json=columns_body([records[index]], id=str(index)))

        answers = await asyncio.gather(*(one(i) for i in range(32)))
    for index, answer in enumerate(answers):
        assert answer.status_code == 200, answer.text
        assert answer.json()["id"] == str(index)
        np.testing.assert_allclose(output(answer.json(), "predict_proba")[0], expected[index], rtol=1e-12)
    health = await served.tool("health_check", model_id="batched")
    version = health["models"][0]["versions"][0]
    assert version["batching"]["requests"] == 32 and version["batching"]["model_calls"] < 32
    assert version["metrics"]["requests"] == 32 and version["breaker"]["calls_in_window"] == 10  # window of 10
    samples = served.server.metrics()
    assert samples['nba_mcp_predict_requests_total{model_id="batched",version="v1.0"}'] == 32
    assert samples['nba_mcp_batched_requests_total{model_id="batched",version="v1.0"}'] == 32
    assert samples['nba_mcp_batch_model_calls_total{model_id="batched",version="v1.0"}'] < 32
    assert samples['nba_mcp_http_responses_total{route="/v2/models/{model}/infer",status="200"}'] >= 32
