"""Streamable HTTP for real: the server started as a subprocess on a free loopback port, driven
by the MCP streamable-HTTP client with bearer tokens for the viewer, operator and admin roles."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError

from nba_mcp_deploy.access import Role, permission_for
from nba_mcp_deploy.access.tokens import add_token
from tests.conftest import NbaModels, subprocess_env
from tests.server.http_server import (
    HttpServer,
    connect,
    free_port,
    post_initialize,
    running_server,
    serve_command,
)

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

M = "matrix"
ROLES = ("viewer", "operator", "admin")
NAMES = {"viewer": "grafana", "operator": "ci-bot", "admin": "alice"}
MAX_PAYLOAD = 2 * 1024 * 1024


@dataclass(frozen=True)
class Deployment:
    server: HttpServer
    tokens: dict[str, str]
    tokens_file: Path
    records: list[dict[str, float]]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory, nba: NbaModels) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("http")
    (workdir / "models").mkdir()
    (workdir / "data").mkdir()
    shutil.copy(nba.joblib_file, workdir / "models" / "logistic.joblib")
    shutil.copy(nba.skops_file, workdir / "models" / "gb.skops")
    tokens_file = workdir / "tokens"
    tokens = {role: add_token(tokens_file, NAMES[role], role) for role in ROLES}
    env = {
        "NBA_MCP_AUTH_TOKENS_FILE": str(tokens_file),
        "NBA_MCP_REGISTRY_FSYNC": "false",
        "NBA_MCP_MAX_PAYLOAD_BYTES": str(MAX_PAYLOAD),
        "NBA_MCP_LOG_LEVEL": "WARNING",
    }
    with running_server(workdir, **env) as server:
        yield Deployment(server, tokens, tokens_file, nba.records(20))


async def call(deployment: Deployment, role: str, tool: str, **arguments: Any) -> tuple[bool, str, Any]:
    async with connect(deployment.server, deployment.tokens[role]) as client:
        result = await client.call_tool(tool, arguments)
    return result.is_error, result.content[0].text, result.structured_content  # type: ignore[union-attr]


async def admin_view(deployment: Deployment) -> tuple[Any, ...]:
    """What an admin sees of the model: deployments, registered versions and stages."""
    async with connect(deployment.server, deployment.tokens["admin"]) as client:
        deployed = (await client.call_tool("list_deployments", {})).structured_content
        found = (await client.call_tool("search_models", {"model_id": M})).structured_content
    assert deployed is not None and found is not None
    return deployed["deployments"], [(v["version"], v["stage"]) for v in found["items"]]


def probes(records: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Arguments that would succeed for each tool we know; other tools are called without any."""
    return {
        "predict": {"model_id": M, "inputs": records[:2]},
        "health_check": {"model_id": M},
        "list_deployments": {},
        "get_model": {"model_id": M},
        "search_models": {"model_id": M},
        "compare_models": {"model_id": M, "version_a": "v1.0", "version_b": "v2.0"},
        "get_lineage": {"model_id": M, "version": "v1.0"},
        "registry_stats": {},
        "detect_drift": {"model_id": M},
        "get_performance": {"model_id": M},
        "get_alerts": {},
        "get_audit_log": {"limit": 5},
        "deploy_model": {"model_id": M, "version": "v3.0", "model_uri": "logistic.joblib", "set_active": False},
        "register_model": {"model_id": M, "version": "v3.0"},
        "setup_ab_test": {"model_id": M, "versions": ["v1.0", "v2.0"], "weights": [0.8, 0.2]},
        "clear_ab_test": {"model_id": M},
        "setup_shadow": {"model_id": M, "version": "v2.0"},
        "clear_shadow": {"model_id": M},
        "set_active_version": {"model_id": M, "version": "v1.0"},
        "set_reference_data": {"model_id": M, "records": records},
        "log_actuals": {"model_id": M, "actuals": {"unknown-id": 1.0}},
        "promote_model": {"model_id": M, "version": "v1.0", "target_stage": "production"},
        "rollback_model": {"model_id": M},
        "retire_model": {"model_id": M, "version": "v9.0"},
        "reset_circuit_breaker": {"model_id": M, "version": "v1.0"},
    }


async def test_probes_answer_without_a_token(deployment: Deployment) -> None:
    status, _, body = deployment.server.get("/healthz")
    assert (status, body) == (200, b'{"status":"ok"}')
    status, _, body = deployment.server.get("/readyz")
    assert (status, body) == (200, b'{"status":"ready"}')
    status, headers, body = deployment.server.get("/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert "nba_mcp_services_ready 1.0" in body.decode()


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer two words", "Bearer not-a-token", "Basic YWxpY2U6c2VjcmV0", "bearer nbamcp_guess"],
)
async def test_no_token_or_a_bad_one_is_401(deployment: Deployment, authorization: str | None) -> None:
    response = post_initialize(deployment.server, authorization)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"] == "invalid_token"


async def test_the_stored_hash_is_not_a_token_and_a_good_token_gets_in(deployment: Deployment) -> None:
    stored_hash = deployment.tokens_file.read_text().split()[2]
    assert post_initialize(deployment.server, f"Bearer {stored_hash}").status_code == 401
    assert post_initialize(deployment.server, f"Bearer {deployment.tokens['viewer']}").status_code == 200
    with pytest.RaisesGroup(MCPError, flatten_subgroups=True):  # the client raises inside task groups
        async with connect(deployment.server, "wrong") as client:
            await client.list_tools()
    samples = deployment.server.metrics()
    assert samples['nba_mcp_http_responses_total{route="/mcp",status="401"}'] >= 2


async def test_a_token_added_while_the_server_runs_works_at_once(deployment: Deployment) -> None:
    token = add_token(deployment.tokens_file, "late-joiner", "viewer")
    failed, text, out = await call(
        Deployment(**{**deployment.__dict__, "tokens": {"viewer": token}}), "viewer", "registry_stats"
    )
    assert not failed and out is not None, text


async def test_a_body_over_the_payload_limit_is_413_naming_the_setting(deployment: Deployment) -> None:
    response = post_initialize(deployment.server, f"Bearer {deployment.tokens['admin']}", b" " * (MAX_PAYLOAD + 1))
    assert response.status_code == 413
    assert "NBA_MCP_MAX_PAYLOAD_BYTES" in response.json()["error_description"]


async def test_role_by_tool_matrix(deployment: Deployment) -> None:
    """Each role calls every tool; a tool beyond its role is refused with the permission it needs,
    and the refusal changes nothing an admin can see."""
    for version, uri, active in (("v1.0", "logistic.joblib", True), ("v2.0", "gb.skops", False)):
        failed, text, _ = await call(
            deployment, "admin", "deploy_model", model_id=M, version=version, model_uri=uri, set_active=active
        )
        assert not failed, text
        failed, text, _ = await call(deployment, "admin", "register_model", model_id=M, version=version)
        assert not failed, text
    async with connect(deployment.server, deployment.tokens["admin"]) as client:
        tools = sorted(t.name for t in (await client.list_tools()).tools)
    known = probes(deployment.records)
    refusals = 0
    for role in ROLES:
        for tool in tools:
            arguments = known.get(tool, {})
            needed = permission_for(tool, arguments)
            before = await admin_view(deployment)
            failed, text, _ = await call(deployment, role, tool, **arguments)
            if needed in Role(role).permissions:
                assert not text.startswith("permission denied"), (role, tool, text)
                continue
            refusals += 1
            assert failed and text.startswith(f"permission denied: {tool} needs the {needed.value} permission"), text
            assert f"caller {NAMES[role]!r} has role {role!r}" in text
            assert await admin_view(deployment) == before, f"a refused {tool} by {role} changed something"
    assert refusals >= 10
    failed, text, log = await call(deployment, "admin", "get_audit_log", limit=1000)
    assert not failed, text
    denied = [e for e in log["entries"] if e["error_category"] == "permission denied"]
    assert len(denied) == refusals
    assert {(e["caller"], e["role"]) for e in denied} == {("grafana", "viewer"), ("ci-bot", "operator")}


async def test_audit_entries_name_the_token_and_the_registry_history_its_actor(deployment: Deployment) -> None:
    model = "audited"
    failed, text, _ = await call(deployment, "operator", "register_model", model_id=model, version="v1.0")
    assert not failed, text
    failed, text, _ = await call(
        deployment, "operator", "promote_model", model_id=model, version="v1.0", target_stage="staging"
    )
    assert not failed, text
    failed, _, _ = await call(
        deployment, "operator", "promote_model", model_id=model, version="v1.0", target_stage="production"
    )
    assert failed
    failed, text, log = await call(deployment, "admin", "get_audit_log", model_id=model)
    assert not failed, text
    entries = [(e["caller"], e["role"], e["tool"], e["outcome"], e["error_category"]) for e in log["entries"]]
    assert entries == [
        ("ci-bot", "operator", "promote_model", "error", "permission denied"),
        ("ci-bot", "operator", "promote_model", "ok", None),
        ("ci-bot", "operator", "register_model", "ok", None),
    ]
    failed, text, got = await call(deployment, "viewer", "get_model", model_id=model)
    assert not failed and got["registered_by"] == "ci-bot" and got["stage"] == "staging", text


async def test_metrics_count_tool_calls_and_serving(deployment: Deployment) -> None:
    model = "metered"
    await call(deployment, "operator", "deploy_model", model_id=model, version="v1.0", model_uri="logistic.joblib")
    for _ in range(3):
        failed, text, _ = await call(deployment, "viewer", "predict", model_id=model, inputs=deployment.records[:2])
        assert not failed, text
    samples = deployment.server.metrics()
    assert samples['nba_mcp_tool_calls_total{tool="predict"}'] >= 3
    assert samples[f'nba_mcp_predict_requests_total{{model_id="{model}",version="v1.0"}}'] == 3
    assert samples[f'nba_mcp_breaker_state{{model_id="{model}",version="v1.0"}}'] == 0
    assert samples[f'nba_mcp_model_ready{{model_id="{model}"}}'] == 1
    assert f'nba_mcp_predict_latency_seconds{{model_id="{model}",quantile="0.99",version="v1.0"}}' in samples
    assert samples['nba_mcp_http_responses_total{route="/mcp",status="200"}'] > 0


def start_and_fail(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        serve_command(*args), cwd=tmp_path, env=subprocess_env(**env), capture_output=True, text=True, timeout=60
    )


def test_a_non_loopback_address_without_tokens_is_refused(tmp_path: Path) -> None:
    done = start_and_fail(tmp_path, "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 2
    assert "a non-loopback address needs bearer tokens" in done.stderr and "NBA_MCP_AUTH_TOKENS_FILE" in done.stderr
    empty = tmp_path / "tokens"
    empty.write_text("# no tokens yet\n")
    done = start_and_fail(
        tmp_path, "--host", "0.0.0.0", "--port", str(free_port()), NBA_MCP_AUTH_TOKENS_FILE=str(empty)
    )
    assert done.returncode == 2 and "non-loopback" in done.stderr


def test_a_broken_token_file_stops_start_up_naming_the_line(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens"
    tokens.write_text("alice admin not-a-hash\n")
    done = start_and_fail(tmp_path, "--port", str(free_port()), NBA_MCP_AUTH_TOKENS_FILE=str(tokens))
    assert done.returncode == 2
    assert "line 1" in done.stderr and "is not a SHA-256 hex digest" in done.stderr


async def test_loopback_without_tokens_serves_as_the_local_role(tmp_path: Path, nba: NbaModels) -> None:
    with running_server(tmp_path, NBA_MCP_ROLE="viewer", NBA_MCP_REGISTRY_FSYNC="false") as server:
        async with connect(server, None) as client:
            denied = await client.call_tool("register_model", {"model_id": "m", "version": "v1.0"})
            allowed = await client.call_tool("registry_stats", {})
    assert denied.is_error and "caller 'local' has role 'viewer'" in denied.content[0].text  # type: ignore[union-attr]
    assert not allowed.is_error
