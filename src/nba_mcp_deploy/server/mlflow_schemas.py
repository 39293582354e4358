"""MLflow tool results (pydantic), built from the MLflow adapter's dataclasses by attribute."""

from pydantic import Field

from nba_mcp_deploy.server.output_model import ToolOutput


class ImportedOut(ToolOutput):
    model_id: str
    version: str = Field(description="the registry version it became (v<N>, or the name it was mirrored under)")
    mlflow_version: str
    stage: str


class SyncConflictOut(ToolOutput):
    model_id: str
    version: str | None = Field(description="the registry version concerned, if any")
    mlflow_version: str | None
    problem: str = Field(description="what differs; neither side was changed")


class MirrorStatusOut(ToolOutput):
    tracking_uri: str
    experiment: str = Field(description="the MLflow experiment deployments and metrics are logged to")
    registry_sync: bool = Field(description="the registry is mirrored to MLflow's model registry")
    state: str = Field(description="idle | delivering | unavailable | stopped")
    backlog: int = Field(description="changes waiting in the outbox, delivered in order")
    parked: int = Field(description="changes MLflow refused repeatedly (retry_failed=true offers them again)")
    unqueued: int = Field(description="changes that could not even be queued (the store failed)")
    unavailable_since: float | None = Field(description="when MLflow stopped answering (epoch seconds)")
    busy_since: float | None = Field(description="when the MLflow call in progress started, if one is")
    last_error: str | None
    last_delivered_at: float | None
    delivered: int = Field(description="changes delivered since the server started")


class SyncRegistryOut(ToolOutput):
    """What sync_registry did both ways, and where mirroring stands now."""

    imported: list[ImportedOut] = Field(description="MLflow versions now in the registry")
    conflicts: list[SyncConflictOut] = Field(description="disagreements reported, never overwritten")
    unchanged: int = Field(description="MLflow versions already in the registry, in step")
    queued_registrations: int = Field(description="registry versions MLflow lacked, queued for it")
    queued_stage_changes: int = Field(description="versions whose MLflow stage differed, queued to follow ours")
    in_step: int = Field(description="registry versions MLflow already mirrors as they are")
    drained: bool = Field(description="everything queued reached MLflow within wait_sec")
    status: MirrorStatusOut
    notes: list[str]
