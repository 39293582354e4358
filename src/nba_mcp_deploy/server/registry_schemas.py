"""Registry tool results (pydantic), built from the registry's dataclasses by attribute."""

from typing import Any

from pydantic import Field

from nba_mcp_deploy.server.output_model import ToolOutput


class VersionRefOut(ToolOutput):
    model_id: str
    version: str


class ModelVersionOut(ToolOutput):
    model_id: str
    version: str
    stage: str = Field(description="development | staging | production | archived")
    framework: str
    algorithm: str
    metrics: dict[str, float]
    hyperparameters: dict[str, Any]
    tags: dict[str, str]
    description: str
    model_uri: str | None
    parent: VersionRefOut | None = Field(description="the version this one was derived from")
    registered_at: float
    registered_by: str
    stage_changed_at: float


class StageChangeOut(ToolOutput):
    model_id: str
    version: str
    from_stage: str | None = Field(description="null for a registration")
    to_stage: str | None = Field(description="null for a deletion")
    changed_at: float
    actor: str
    reason: str
    note: str
    seq: int | None


class StageChangeResultOut(ToolOutput):
    """The version after the change, every change the operation made, and what it replaced."""

    version: ModelVersionOut
    changes: list[StageChangeOut]
    replaced: VersionRefOut | None = Field(description="the production version this one superseded")
    serving_active_version: str | None = Field(description="the version now taking this model's traffic")


class SearchOut(ToolOutput):
    items: list[ModelVersionOut]
    total: int
    offset: int
    limit: int
    next_offset: int | None = Field(description="pass as offset for the next page; null at the end")


class MetricDiffOut(ToolOutput):
    name: str
    a: float | None
    b: float | None
    absolute: float | None = Field(description="b - a")
    relative: float | None = Field(description="(b - a) / |a|")


class HyperparameterDiffOut(ToolOutput):
    name: str
    a: Any
    b: Any
    in_a: bool
    in_b: bool


class RelationOut(ToolOutput):
    kind: str = Field(description="same | ancestor | descendant | siblings | related | unrelated (a relative to b)")
    description: str
    generations: int | None
    common_ancestor: VersionRefOut | None


class ComparisonOut(ToolOutput):
    a: ModelVersionOut
    b: ModelVersionOut
    metrics: list[MetricDiffOut]
    hyperparameters: list[HyperparameterDiffOut] = Field(description="only the ones that differ")
    same_hyperparameters: list[str]
    age_a_sec: float
    age_b_sec: float
    relation: RelationOut = Field(description="how a relates to b in the lineage")


class DescendantOut(ToolOutput):
    version: ModelVersionOut
    depth: int = Field(description="1 = a child")


class LineageOut(ToolOutput):
    version: ModelVersionOut
    ancestors: list[ModelVersionOut] = Field(description="parent first")
    descendants: list[DescendantOut] = Field(description="breadth first")
    missing_ancestor: VersionRefOut | None = Field(description="a parent that was deleted")
    truncated: bool


class StatisticsOut(ToolOutput):
    total_models: int
    total_versions: int
    production_count: int
    by_stage: dict[str, int]
    by_framework: dict[str, int]


class ModelSummaryOut(ToolOutput):
    model_id: str
    version_count: int
    latest_version: str
    production_version: str | None
    stage_counts: dict[str, int]
    last_registered_at: float
