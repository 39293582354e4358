"""Running HTTP mode: load the token file, refuse an open bind without tokens, serve with uvicorn
(MCP, the probes and the inference protocols on one port), and the Open Inference Protocol over
gRPC beside it when a gRPC port is given (one data plane for both)."""

from pathlib import Path

from nba_mcp_deploy.access.tokens import TokenFile
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.dashboard.routes import dashboard_routes
from nba_mcp_deploy.server.http_app import MCP_PATH, HttpAccess, build_http_app, check_bind
from nba_mcp_deploy.server.inference_plane import InferencePlane
from nba_mcp_deploy.server.inference_routes import inference_routes
from nba_mcp_deploy.server.token_auth import RoleTokenVerifier

log = get_logger(__name__)


def load_tokens(path: Path | None) -> TokenFile | None:
    """The token file named by the config, checked now (a bad file stops start-up with its line)."""
    return None if path is None else TokenFile(path)


def serve_http(config: DeploymentConfig, bind_host: str, port: int, grpc_port: int | None = None) -> None:
    """Serve MCP (and the probes) over HTTP until interrupted, and OIP over gRPC on `grpc_port`.
    Raises ConfigError before binding."""
    import uvicorn

    tokens = load_tokens(config.auth_tokens_file)
    check_bind(bind_host, None if tokens is None else len(tokens.entries))
    host = ServiceHost(config)
    base_url = f"http://{bind_host}:{port}"
    verifier = RoleTokenVerifier(tokens) if tokens is not None else None
    server = build_server(host, token_verifier=verifier, issuer_url=base_url)
    plane = InferencePlane(host)
    routes = [*inference_routes(server, host, plane), *dashboard_routes(HttpAccess.of(server), host)]
    app = build_http_app(server, host, bind_host=bind_host, routes=routes)
    host.start()
    log.info(
        "serving over HTTP",
        extra={
            "url": base_url + MCP_PATH,
            "auth": "bearer tokens" if tokens is not None else f"none (local role {config.role})",
            "tokens": 0 if tokens is None else len(tokens.entries),
            "registry_dir": str(config.registry_dir),
            "grpc_port": grpc_port,
        },
    )
    http = uvicorn.Server(
        uvicorn.Config(app, host=bind_host, port=port, log_config=None, log_level=config.log_level.lower())
    )
    try:
        if grpc_port is None:
            http.run()
        else:
            from nba_mcp_deploy.server.grpc_server import GrpcAccess, run_beside, start_grpc_server

            access = GrpcAccess(tokens, server.gate.local_caller)
            run_beside(
                http.serve,
                lambda: start_grpc_server(
                    plane, access, bind_host=bind_host, port=grpc_port, max_message_bytes=config.max_payload_bytes
                ),
                http.config.get_loop_factory(),
            )
    finally:
        host.close()
