"""MCP tools for MLflow: `sync_registry`. The other tools gain MLflow behaviour without changing:
deploy_model resolves models:/ and runs:/ URIs through the tracking server, control changes
become runs, metrics reach the runs, health_check reports MLflow.

No `from __future__ import annotations`: the SDK evaluates these annotations. A result type
written as text is a core class read through its copy in `shapes.py` (see `outputs.py`).
"""

from typing import TYPE_CHECKING, Annotated

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from nba_mcp_deploy.errors import ConflictError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.params import ModelId, one_of
from nba_mcp_deploy.server.shapes import SyncDirection

if TYPE_CHECKING:
    from nba_mcp_deploy.mlflow_sync.sync import MlflowSync, SyncReport

# Writes to both registries, never overwrites (idempotent), talks to a system outside the server.
SYNCS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=True)

# The MCP layer's bound on waiting inside one call: an agent's client gives up on a call that
# stays silent much longer, and what is queued reaches MLflow anyway.
MAX_WAIT_SEC = 120.0

if TYPE_CHECKING:
    DirectionName = str
else:
    DirectionName = one_of(direction.value for direction in SyncDirection)
Direction = Annotated[
    DirectionName,
    Field(description="import: MLflow -> registry; export: registry -> MLflow; both: import, then export"),
]
WaitSec = Annotated[
    float,
    Field(
        ge=0, le=MAX_WAIT_SEC, allow_inf_nan=False, description="how long to wait for queued changes to reach MLflow"
    ),
]


def register_mlflow_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    def mlflow() -> "MlflowSync":
        found = host.services().mlflow
        if found is None:
            raise ConflictError(
                "MLflow is not enabled on this server: set MLFLOW_TRACKING_URI and ENABLE_MLFLOW_REGISTRY=true "
                "in its environment and restart it"
            )
        return found

    @server.tool(annotations=SYNCS)
    @boundary
    def sync_registry(
        direction: Direction = SyncDirection.BOTH.value,
        model_id: ModelId | None = None,
        wait_sec: WaitSec = 10.0,
        retry_failed: bool = False,
    ) -> "SyncReport":
        """Bring the model registry and MLflow's model registry in step, both ways.

        Import: MLflow versions the registry lacks become versions v<N> (model_uri models:/name/N,
        metrics and params from their runs, stage from the production/staging alias). Export:
        registry versions MLflow lacks, or whose stage differs there, are queued for MLflow.
        Disagreements (another version under the same name, two different production versions)
        are reported in conflicts and left as they are. Changes reach MLflow through an outbox in
        order, even after an outage; retry_failed=true offers again the changes MLflow refused.
        model_id limits it to one model.
        """
        return mlflow().sync_registry(
            direction=direction, model_id=model_id, wait_sec=wait_sec, retry_failed=retry_failed
        )
