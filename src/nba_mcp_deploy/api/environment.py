"""The Python API's one reading of the environment: a script is an entry point too.

The `nba-mcp-deploy` command reads its settings in `cli.py`; a script that writes
`ModelServingManager(enable_mlflow=True)` starts from the same variables (the seed's
`MLFLOW_TRACKING_URI`, `MODEL_REGISTRY_DIR`, `DRIFT_THRESHOLD`, ... and our `NBA_MCP_*`), read
here through the same `DeploymentConfig.from_env`, once per object it builds. Keywords given to
a constructor win over the environment; nothing below this module reads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nba_mcp_deploy.config import ENVIRONMENT, DeploymentConfig


@dataclass(frozen=True)
class Environment:
    """The settings the environment gives, and which config fields it set (the rest are defaults)."""

    config: DeploymentConfig
    set_fields: frozenset[str]


def read_environment() -> Environment:
    """The configuration the environment describes; ConfigError names a bad variable."""
    environ = os.environ
    config = DeploymentConfig.from_env(environ, Path.cwd())
    set_fields = frozenset(field for variable, (field, _) in ENVIRONMENT.items() if environ.get(variable, "").strip())
    return Environment(config, set_fields)
