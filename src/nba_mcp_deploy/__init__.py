"""nba-mcp-deploy: a model-deployment control plane for NBA prediction models, served over MCP.

The seed document's Python API is importable from here (`from nba_mcp_deploy import
ModelServingManager, ModelRegistry, ModelStage, ...`; see docs/python-api.md). Importing the
package is cheap on purpose (the MCP server must start fast): each of those names loads its
module on first use (PEP 562), and the heavy parts (pandas, scipy, mlflow, scikit-learn) are
imported only where they are used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nba_mcp_deploy.access.permissions import Permission as Permission
    from nba_mcp_deploy.api.decorators import handle_errors as handle_errors
    from nba_mcp_deploy.api.decorators import require_permission as require_permission
    from nba_mcp_deploy.api.decorators import track_metric as track_metric
    from nba_mcp_deploy.api.monitoring import ModelMonitor as ModelMonitor
    from nba_mcp_deploy.api.registry import ModelRegistry as ModelRegistry
    from nba_mcp_deploy.api.registry import ModelStage as ModelStage
    from nba_mcp_deploy.api.serving import ModelServingManager as ModelServingManager
    from nba_mcp_deploy.api.versioning import ModelVersionManager as ModelVersionManager
    from nba_mcp_deploy.config import DeploymentConfig as DeploymentConfig
    from nba_mcp_deploy.errors import DeployError as DeployError
    from nba_mcp_deploy.monitoring.alerts import AlertSeverity as AlertSeverity
    from nba_mcp_deploy.monitoring.methods import DriftMethod as DriftMethod
    from nba_mcp_deploy.registry.workflows import MetricGate as MetricGate

__version__ = "0.1.0"

# Public name -> the module that defines it (loaded on first access).
_LAZY: dict[str, str] = {
    "ModelServingManager": "nba_mcp_deploy.api.serving",
    "ModelRegistry": "nba_mcp_deploy.api.registry",
    "ModelStage": "nba_mcp_deploy.api.registry",
    "ModelMonitor": "nba_mcp_deploy.api.monitoring",
    "DriftMethod": "nba_mcp_deploy.monitoring.methods",
    "AlertSeverity": "nba_mcp_deploy.monitoring.alerts",
    "ModelVersionManager": "nba_mcp_deploy.api.versioning",
    "MetricGate": "nba_mcp_deploy.registry.workflows",
    "Permission": "nba_mcp_deploy.access.permissions",
    "require_permission": "nba_mcp_deploy.api.decorators",
    "handle_errors": "nba_mcp_deploy.api.decorators",
    "track_metric": "nba_mcp_deploy.api.decorators",
    "DeploymentConfig": "nba_mcp_deploy.config",
    "DeployError": "nba_mcp_deploy.errors",
}

__all__ = [
    "AlertSeverity",
    "DeployError",
    "DeploymentConfig",
    "DriftMethod",
    "MetricGate",
    "ModelMonitor",
    "ModelRegistry",
    "ModelServingManager",
    "ModelStage",
    "ModelVersionManager",
    "Permission",
    "__version__",
    "handle_errors",
    "require_permission",
    "track_metric",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nba_mcp_deploy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
