"""MCP tools and resources for the registry: register, promote, roll back, find, compare, trace.

No `from __future__ import annotations`: the SDK evaluates these annotations.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import Field

from nba_mcp_deploy.access.permissions import current_caller
from nba_mcp_deploy.errors import DeployError, NotFoundError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.hints import CHANGES, READ_ONLY, SETS
from nba_mcp_deploy.server.params import ModelId, Version
from nba_mcp_deploy.server.registry_schemas import (
    ComparisonOut,
    LineageOut,
    ModelVersionOut,
    SearchOut,
    StageChangeResultOut,
    StatisticsOut,
)

if TYPE_CHECKING:
    from nba_mcp_deploy.registry.records import StageChangeResult
    from nba_mcp_deploy.services import Services

StageName = Literal["development", "staging", "production", "archived"]
Label = Annotated[str, Field(min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=2000)]
RunId = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_\-]{1,64}$", description="an MLflow run id (32 hex digits in MLflow)")
]


def register_registry_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    def services() -> "Services":
        return host.services()

    def with_serving(result: "StageChangeResult") -> StageChangeResultOut:
        manager = services().manager
        model_id = result.version.model_id
        active = manager.get_deployment(model_id).active_version if manager.is_deployed_model(model_id) else None
        return StageChangeResultOut.model_validate(
            {
                "version": ModelVersionOut.model_validate(result.version),
                "changes": list(result.changes),
                "replaced": result.replaced,
                "serving_active_version": active,
            }
        )

    @server.tool(annotations=CHANGES)
    @boundary
    def register_model(
        model_id: ModelId,
        version: Version,
        stage: Literal["development", "staging"] = "development",
        framework: Label = "unknown",
        algorithm: Label = "unknown",
        metrics: Annotated[dict[str, float], Field(max_length=200)] | None = None,
        hyperparameters: Annotated[dict[str, Any], Field(max_length=200)] | None = None,
        tags: Annotated[dict[str, str], Field(max_length=100)] | None = None,
        description: Text = "",
        model_uri: Annotated[str, Field(min_length=1, max_length=4096)] | None = None,
        parent: Annotated[str, Field(max_length=140, description="'v1.0' or 'other_model:v1.0'")] | None = None,
        run_id: RunId | None = None,
    ) -> ModelVersionOut:
        """Add a model version to the registry (an existing model+version is a conflict, never overwritten).

        Record how it was trained (framework, algorithm, metrics such as accuracy, hyperparameters),
        where it lives (model_uri, used to deploy it on promotion) and what it was derived from
        (parent, for lineage). It starts in development or staging; use promote_model to move it.
        With MLflow enabled, run_id names the MLflow run it was trained in: the run's metrics and
        params are copied (the ones given here win).
        """
        record = services().registry.register_model(
            model_id,
            version,
            stage=stage,
            framework=framework,
            algorithm=algorithm,
            metrics=metrics,
            hyperparameters=hyperparameters,
            tags=tags,
            description=description,
            model_uri=model_uri,
            parent=parent,
            actor=current_caller().name,
            run_id=run_id,
        )
        return ModelVersionOut.model_validate(record)

    @server.tool(annotations=SETS)
    @boundary
    def promote_model(
        model_id: ModelId,
        version: Version,
        target_stage: StageName,
        force: bool = False,
        note: Annotated[str, Field(max_length=500)] = "",
    ) -> StageChangeResultOut:
        """Move a version along development -> staging -> production -> archived.

        Promoting to production deploys the version (if it has a model_uri and is not yet
        deployed), makes it the active version, and archives the previous production version
        (kept deployed for rollback). A refused jump names the stages allowed from the current
        one. Taking the production version out of production needs force=true.
        """
        result = services().registry.promote_model(
            model_id, version, target_stage, force=force, note=note, actor=current_caller().name
        )
        return with_serving(result)

    @server.tool(annotations=CHANGES)
    @boundary
    def rollback_model(model_id: ModelId) -> StageChangeResultOut:
        """Return the previous production version to production (and to serving); the current one
        is archived. Repeated rollbacks walk further back."""
        return with_serving(services().registry.rollback_model(model_id, actor=current_caller().name))

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_model(model_id: ModelId, version: Version | None = None, stage: StageName | None = None) -> ModelVersionOut:
        """One registered version: by version, by stage (e.g. stage='production' for the production
        model), or the latest version when neither is given."""
        return ModelVersionOut.model_validate(services().registry.get_model(model_id, version=version, stage=stage))

    @server.tool(annotations=READ_ONLY)
    @boundary
    def search_models(
        model_id: ModelId | None = None,
        framework: Label | None = None,
        algorithm: Label | None = None,
        stage: list[StageName] | None = None,
        tags: Annotated[dict[str, str], Field(max_length=20)] | None = None,
        metrics: Annotated[
            list[Annotated[str, Field(max_length=100)]],
            Field(max_length=10, description="conditions like 'accuracy >= 0.9' (all must hold)"),
        ]
        | None = None,
        text: Annotated[str, Field(max_length=200)] | None = None,
        order_by: Annotated[
            list[Annotated[str, Field(max_length=100)]],
            Field(max_length=5, description="e.g. ['metrics.accuracy DESC', 'version']"),
        ]
        | None = None,
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=500)] = 50,
    ) -> SearchOut:
        """Find versions by model, framework, algorithm, stage, tags, metric conditions and text in the
        description; sorted and paged (use next_offset for the next page)."""
        page = services().registry.search_models(
            model_id=model_id,
            framework=framework,
            algorithm=algorithm,
            stage=stage,
            tags=tags,
            metrics=metrics,
            text=text,
            order_by=order_by,
            offset=offset,
            limit=limit,
        )
        return SearchOut.model_validate(page)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def compare_models(
        model_id: ModelId, version_a: Version, version_b: Version, model_id_b: ModelId | None = None
    ) -> ComparisonOut:
        """Compare two versions (of one model, or of model_id and model_id_b): metric differences
        (absolute and relative), differing hyperparameters, stages, ages and lineage relation."""
        comparison = services().registry.compare_models(model_id, version_a, version_b, model_id_b=model_id_b)
        return ComparisonOut.model_validate(comparison)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_lineage(model_id: ModelId, version: Version) -> LineageOut:
        """A version's ancestors (parent first) and descendants (breadth first)."""
        return LineageOut.model_validate(services().registry.get_lineage(model_id, version))

    @server.tool(annotations=READ_ONLY)
    @boundary
    def registry_stats() -> StatisticsOut:
        """How many models and versions, how many in production, counts by stage and framework."""
        return StatisticsOut.model_validate(services().registry.get_statistics())

    @server.resource("registry://models", mime_type="application/json", description="every registered model")
    def catalogue() -> str:
        with resource_errors():
            return json.dumps([asdict(s) for s in services().registry.list_models()], default=str)

    @server.resource(
        "registry://models/{model_id}",
        mime_type="application/json",
        description="one model: its versions (newest first) and its stage history",
    )
    def model_resource(model_id: str) -> str:
        with resource_errors():
            registry = services().registry
            versions = registry.list_versions(model_id)
            listed = [ModelVersionOut.model_validate(v).model_dump(mode="json") for v in versions]
            history = [asdict(change) for change in registry.get_history(model_id)]
            return json.dumps({"model_id": model_id, "versions": listed, "history": history}, default=str)


@contextmanager
def resource_errors() -> Iterator[None]:
    """Our errors as the SDK's resource errors, so the client reads the reason (not a bare failure)."""
    try:
        yield
    except NotFoundError as exc:
        raise ResourceNotFoundError(str(exc)) from exc
    except DeployError as exc:
        raise ResourceError(str(exc)) from exc
