"""The HTTP app in process (ASGI): more routes mount beside MCP with the same roles as the tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from nba_mcp_deploy.access import current_caller
from nba_mcp_deploy.access.tokens import TokenFile, add_token
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConfigError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.http_app import HttpAccess, build_http_app, check_bind, is_loopback
from nba_mcp_deploy.server.token_auth import RoleTokenVerifier
from nba_mcp_deploy.services import build_services

pytestmark = pytest.mark.anyio


async def whoami(request: Request) -> Response:
    caller = current_caller()
    return JSONResponse({"caller": caller.name, "role": caller.role.value, "model": request.path_params.get("model")})


@pytest.fixture
async def tokens(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "tokens"
    return {role: add_token(path, f"{role}-token", role) for role in ("viewer", "operator", "admin")}


async def app_client(
    config: DeploymentConfig, tmp_path: Path, *, with_tokens: bool
) -> AsyncIterator[httpx2.AsyncClient]:
    services = build_services(config.replace(role="operator"))
    host = ServiceHost.ready_made(services)
    verifier = RoleTokenVerifier(TokenFile(tmp_path / "tokens")) if with_tokens else None
    server = build_server(host, token_verifier=verifier)
    access = HttpAccess.of(server)
    routes = [
        Route("/v2/models/{model}/infer", access.protect("predict", whoami), methods=["POST"]),
        Route("/admin/deploy", access.protect("deploy_model", whoami), methods=["POST"]),
    ]
    app = build_http_app(server, host, bind_host="127.0.0.1", routes=routes)
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client
    services.close()


@pytest.fixture
async def secured(
    config: DeploymentConfig, tmp_path: Path, tokens: dict[str, str]
) -> AsyncIterator[httpx2.AsyncClient]:
    async for client in app_client(config, tmp_path, with_tokens=True):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_mounted_routes_answer_401_403_or_run_as_the_caller(secured: httpx2.AsyncClient, tokens: dict[str, str]):
    assert (await secured.post("/v2/models/m/infer")).status_code == 401
    assert (await secured.post("/v2/models/m/infer", headers=bearer("nope"))).status_code == 401
    answer = await secured.post("/v2/models/m/infer", headers=bearer(tokens["viewer"]))
    assert answer.status_code == 200
    assert answer.json() == {"caller": "viewer-token", "role": "viewer", "model": "m"}
    refused = await secured.post("/admin/deploy", headers=bearer(tokens["viewer"]))
    assert refused.status_code == 403
    assert "deploy_model needs the WRITE permission" in refused.json()["error_description"]
    assert (await secured.post("/admin/deploy", headers=bearer(tokens["operator"]))).json()["role"] == "operator"
    metrics = (await secured.get("/metrics")).text
    assert 'nba_mcp_http_responses_total{route="/v2/models/{model}/infer",status="401"} 2.0' in metrics
    assert 'nba_mcp_http_responses_total{route="/admin/deploy",status="403"} 1.0' in metrics
    await secured.get("/no/such/path")
    assert 'route="other",status="404"' in (await secured.get("/metrics")).text


async def test_without_tokens_routes_run_as_the_local_caller(config: DeploymentConfig, tmp_path: Path) -> None:
    async for client in app_client(config, tmp_path, with_tokens=False):
        answer = await client.post("/admin/deploy")
        assert answer.json() == {"caller": "local", "role": "operator", "model": None}


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(secured: httpx2.AsyncClient) -> None:
    headers = {"Content-Length": str(10**9), "Content-Type": "application/json"}
    answer = await secured.post("/v2/models/m/infer", content=b"{}", headers=headers)
    assert answer.status_code == 413 and "NBA_MCP_MAX_PAYLOAD_BYTES" in answer.json()["error_description"]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_bind(host, None)
    else:
        with pytest.raises(ConfigError, match="non-loopback address needs bearer tokens"):
            check_bind(host, 0)
        check_bind(host, 1)
