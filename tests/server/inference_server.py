"""A real HTTP + gRPC server with bearer tokens and NBA models deployed, shared by the suites that
drive it with clients other people wrote (tritonclient, KServe's, MLflow's, schemathesis)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from nba_mcp_deploy.access.tokens import add_token
from tests.conftest import NbaModels
from tests.inference_models import save_nan_pipeline
from tests.server.http_server import HttpServer, connect, free_port, running_server

NAN_MODEL_DIR = "nan_pipeline_mlflow"


def nan_model_uri(nba: NbaModels) -> str:
    """The NaN pipeline saved once under the trusted model root, as an MLflow model directory."""
    path = nba.root / NAN_MODEL_DIR
    if not path.exists():
        save_nan_pipeline(nba.trained, path)
    return NAN_MODEL_DIR


@dataclass(frozen=True)
class InferenceServer:
    server: HttpServer
    grpc_address: str
    tokens: dict[str, str]

    @property
    def http_address(self) -> str:
        return self.server.base_url.removeprefix("http://")

    def bearer(self, role: str = "viewer") -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[role]}"} if self.tokens else {}

    def tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            async with connect(self.server, self.tokens.get("admin")) as client:
                result = await client.call_tool(name, arguments)
            assert not result.is_error, result.content
            assert result.structured_content is not None
            return result.structured_content

        return anyio.run(call)

    def deploy(self, model_id: str, version: str, uri: str) -> None:
        self.tool("deploy_model", model_id=model_id, version=version, model_uri=uri)


@contextmanager
def inference_server(workdir: Path, nba: NbaModels, *, tokens: bool = True, **env: str) -> Iterator[InferenceServer]:
    """`serve --transport http --grpc-port P` with viewer and admin tokens (or none: loopback)."""
    issued: dict[str, str] = {}
    if tokens:
        tokens_file = workdir / "tokens"
        issued = {role: add_token(tokens_file, f"{role}-app", role) for role in ("viewer", "admin")}
        env["NBA_MCP_AUTH_TOKENS_FILE"] = str(tokens_file)
    grpc_port = free_port()
    settings = {
        "NBA_MCP_MODEL_ROOTS": str(nba.root),
        "NBA_MCP_REGISTRY_FSYNC": "false",
        "NBA_MCP_LOG_LEVEL": "WARNING",
        "NBA_MCP_BREAKER_MIN_CALLS": "5",
        "NBA_MCP_BREAKER_WINDOW": "10",
        "NBA_MCP_BREAKER_OPEN_SEC": "120",
        **env,
    }
    with running_server(workdir, args=("--grpc-port", str(grpc_port)), **settings) as server:
        yield InferenceServer(server, f"127.0.0.1:{grpc_port}", issued)
