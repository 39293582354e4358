"""The `nba-mcp-deploy` command: the only place that reads the environment.

    nba-mcp-deploy serve            run the MCP server over stdio (for Claude Desktop & co.)
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
import sys
from dataclasses import asdict
from pathlib import Path

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConfigError


def _load_config() -> DeploymentConfig:
    return DeploymentConfig.from_env(os.environ, Path.cwd())


def serve(config: DeploymentConfig) -> int:
    """Run the MCP server over stdio until the client closes it. Logs go to stderr only."""
    from nba_mcp_deploy.host import ServiceHost
    from nba_mcp_deploy.logs import configure_logging, get_logger
    from nba_mcp_deploy.server.app import build_server

    configure_logging(config.log_level)
    host = ServiceHost(config)
    server = build_server(host)
    host.start()
    get_logger("cli").info("serving over stdio", extra={"registry_dir": str(config.registry_dir)})
    try:
        server.run("stdio")
    finally:
        host.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nba-mcp-deploy", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the MCP server over stdio")
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
        return serve(config)
    if args.command == "demo":
        from nba_mcp_deploy.demo import run_demo

        return run_demo(workdir=args.workdir, base_env=dict(os.environ))
    if args.command == "mcp-config":
        print(json.dumps(client_config(config), indent=2))
        return 0
    print(json.dumps(asdict(config), default=str, indent=2))
    return 0


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
