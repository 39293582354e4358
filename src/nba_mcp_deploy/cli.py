"""The `nba-mcp-deploy` command: the only place that reads the environment.

    nba-mcp-deploy serve            run the MCP server over stdio (for Claude Desktop & co.)
    nba-mcp-deploy serve --transport http [--host 127.0.0.1] [--port 8000] [--grpc-port 8001]
                                    serve MCP at /mcp over streamable HTTP, with bearer tokens
                                    from NBA_MCP_AUTH_TOKENS_FILE, /healthz, /readyz, /metrics,
                                    the inference protocols; OIP over gRPC on --grpc-port
    nba-mcp-deploy token add NAME ROLE
                                    add a bearer token (viewer, operator, admin) to the token
                                    file; prints the token once, stores only its SHA-256
    nba-mcp-deploy demo             train NBA models, start the server as a subprocess, drive it
                                    like an agent and print a report
    nba-mcp-deploy config           print the effective configuration as JSON
    nba-mcp-deploy mcp-config       print a client config (mcp.json) with this install's absolute paths

Configuration comes from environment variables (see `config.ENVIRONMENT`), read once here.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import asdict
from pathlib import Path

from nba_mcp_deploy.access.permissions import ROLE_NAMES
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConfigError


def _load_config() -> DeploymentConfig:
    return DeploymentConfig.from_env(os.environ, Path.cwd())


def serve(config: DeploymentConfig) -> int:
    """Run the MCP server over stdio until the client closes it. Logs go to stderr only."""
    from nba_mcp_deploy.host import ServiceHost
    from nba_mcp_deploy.logs import configure_logging, get_logger
    from nba_mcp_deploy.server.app import build_server
    from nba_mcp_deploy.server.startup import STDIO_START_DELAY_SEC, StartServicesAfterListing

    configure_logging(config.log_level)
    host = ServiceHost(config)
    server = build_server(host)
    server.middleware.append(StartServicesAfterListing(host))
    host.start_within(STDIO_START_DELAY_SEC)
    get_logger("cli").info("serving over stdio", extra={"registry_dir": str(config.registry_dir), "role": config.role})
    try:
        server.run("stdio")
    finally:
        host.close()
    return 0


def serve_http(config: DeploymentConfig, host: str, port: int, grpc_port: int | None = None) -> int:
    """Serve over streamable HTTP until interrupted (the checks before binding exit with 2)."""
    from nba_mcp_deploy.logs import configure_logging
    from nba_mcp_deploy.server.http_server import serve_http as run

    configure_logging(config.log_level)
    try:
        run(config, host, port, grpc_port)
    except ConfigError as exc:
        print(f"nba-mcp-deploy: configuration error: {exc}", file=sys.stderr)
        return 2
    return 0


def add_token(config: DeploymentConfig, name: str, role: str, file: Path | None) -> int:
    """Append a token line and print the token (once) on stdout; the advice goes to stderr."""
    from nba_mcp_deploy.access.tokens import add_token as append
    from nba_mcp_deploy.errors import DeployError

    path = file or config.auth_tokens_file
    if path is None:
        print(
            "nba-mcp-deploy: no token file: set NBA_MCP_AUTH_TOKENS_FILE (the server reads it) or pass --file",
            file=sys.stderr,
        )
        return 2
    try:
        token = append(path, name, role)
    except DeployError as exc:
        print(f"nba-mcp-deploy: {exc}", file=sys.stderr)
        return 2
    print(token)
    print(
        f"added token {name!r} ({role}) to {path}; it is shown only now. Send it as 'Authorization: Bearer <token>'.",
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nba-mcp-deploy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the MCP server (stdio, or streamable HTTP)")
    serve_parser.add_argument("--transport", choices=("stdio", "http"), default="stdio")
    serve_parser.add_argument("--host", default="127.0.0.1", help="HTTP: address to listen on (default 127.0.0.1)")
    serve_parser.add_argument("--port", type=int, default=8000, help="HTTP: port (default 8000)")
    serve_parser.add_argument(
        "--grpc-port", type=int, default=None, help="HTTP: also serve the Open Inference Protocol over gRPC here"
    )
    token = commands.add_parser("token", help="manage the bearer tokens of HTTP mode")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_add = token_commands.add_parser("add", help="add a token; prints it once")
    token_add.add_argument("name", help="who or what uses it (shown as the caller in the audit log)")
    token_add.add_argument("role", choices=ROLE_NAMES)
    token_add.add_argument("--file", type=Path, default=None, help="token file (default: NBA_MCP_AUTH_TOKENS_FILE)")
    demo = commands.add_parser("demo", help="run the end-to-end demo and print a report")
    demo.add_argument(
        "--workdir", type=Path, default=None, help="where models and the registry go (default: a temp dir)"
    )
    commands.add_parser("config", help="print the effective configuration")
    commands.add_parser("mcp-config", help="print mcp.json for this install, with absolute paths")
    args = parser.parse_args(argv)
    try:
        config = _load_config()
    except ConfigError as exc:
        print(f"nba-mcp-deploy: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        if args.transport == "http":
            return serve_http(config, args.host, args.port, args.grpc_port)
        return serve(config)
    if args.command == "token":
        return add_token(config, args.name, args.role, args.file)
    if args.command == "demo":
        from nba_mcp_deploy.demo import run_demo

        return run_demo(workdir=args.workdir, base_env=dict(os.environ))
    if args.command == "mcp-config":
        print(json.dumps(client_config(config), indent=2))
        return 0
    print(json.dumps(shown_config(config), default=str, indent=2))
    return 0


def shown_config(config: DeploymentConfig) -> dict[str, object]:
    """The effective configuration as printed: the registry URL without its password."""
    values = asdict(config)
    if config.registry_url is not None:
        values["registry_url"] = re.sub(r"://([^:/@]*):[^@]*@", r"://\1:***@", config.registry_url)
    return values


def client_config(config: DeploymentConfig) -> dict[str, object]:
    """mcp.json's content with absolute paths, ready to paste into Claude Desktop's config."""
    command = Path(sys.executable).with_name("nba-mcp-deploy")
    return {
        "mcpServers": {
            "nba-mcp-deploy": {
                "command": str(command),
                "args": ["serve"],
                "env": {
                    "MODEL_REGISTRY_DIR": str(config.registry_dir),
                    "NBA_MCP_MODEL_ROOTS": os.pathsep.join(str(p) for p in config.model_roots),
                    "NBA_MCP_DATA_ROOTS": os.pathsep.join(str(p) for p in config.data_roots),
                    "NBA_MCP_LOG_LEVEL": config.log_level,
                },
            }
        }
    }


if __name__ == "__main__":
    raise SystemExit(main())
