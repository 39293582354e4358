"""MCP tools and resources for the registry: register, promote, roll back, find, compare, trace.

No `from __future__ import annotations`: the SDK evaluates these annotations. A result type
written as text is a core class read through its copy in `shapes.py` (see `outputs.py`).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import Field, WithJsonSchema

from nba_mcp_deploy.access.permissions import current_caller
from nba_mcp_deploy.errors import DeployError, NotFoundError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.identifiers import MODEL_ID_PATTERN, VERSION_PATTERN
from nba_mcp_deploy.server.errors import ToolBoundary
from nba_mcp_deploy.server.hints import CHANGES, READ_ONLY, SETS
from nba_mcp_deploy.server.outputs import show
from nba_mcp_deploy.server.params import Label, ModelId, ModelUri, RegistrationStage, StageName, Version
from nba_mcp_deploy.server.results import ServedStageChange, extend
from nba_mcp_deploy.server.shapes import (
    CONDITION_RULE,
    MAX_CONDITIONS,
    MAX_DESCRIPTION,
    MAX_HYPERPARAMETERS_JSON,
    MAX_LIMIT,
    MAX_METRICS,
    MAX_NOTE,
    MAX_SORT_KEYS,
    MAX_TAG_VALUE,
    MAX_TAGS,
    MAX_TEXT,
    RUN_ID_PATTERN,
    SORT_RULE,
    Stage,
)

if TYPE_CHECKING:
    from nba_mcp_deploy.registry import (
        Comparison,
        Lineage,
        ModelVersion,
        RegistryStatistics,
        SearchPage,
        StageChangeResult,
    )
    from nba_mcp_deploy.services import Services

Metrics = Annotated[dict[str, float], Field(max_length=MAX_METRICS)]
Tags = Annotated[dict[str, Annotated[str, Field(max_length=MAX_TAG_VALUE)]], Field(max_length=MAX_TAGS)]
Hyperparameters = Annotated[
    dict[str, Any],
    Field(description=f"name -> JSON value, at most {MAX_HYPERPARAMETERS_JSON // 1024} KiB once written as JSON"),
]
Parent = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^(?:{MODEL_ID_PATTERN[1:-1]}:)?{VERSION_PATTERN[1:-1]}$",
            "description": "the version this one was derived from: 'v1.0' (same model) or 'other_model:v1.0'",
        }
    ),
]
RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN, description="an MLflow run id (32 hex digits in MLflow)")]
MetricConditions = Annotated[
    list[str], Field(max_length=MAX_CONDITIONS, description=f"all must hold; each {CONDITION_RULE}")
]
SortKeys = Annotated[list[str], Field(max_length=MAX_SORT_KEYS, description=f"each {SORT_RULE}")]


def register_registry_tools(server: MCPServer, host: ServiceHost, boundary: ToolBoundary) -> None:
    def services() -> "Services":
        return host.services()

    def with_serving(result: "StageChangeResult") -> ServedStageChange:
        manager = services().manager
        model_id = result.version.model_id
        active = manager.get_deployment(model_id).active_version if manager.is_deployed_model(model_id) else None
        return extend(result, ServedStageChange, serving_active_version=active)

    @server.tool(annotations=CHANGES)
    @boundary
    def register_model(
        model_id: ModelId,
        version: Version,
        stage: RegistrationStage = Stage.DEVELOPMENT.value,
        framework: Label = "unknown",
        algorithm: Label = "unknown",
        metrics: Metrics | None = None,
        hyperparameters: Hyperparameters | None = None,
        tags: Tags | None = None,
        description: Annotated[str, Field(max_length=MAX_DESCRIPTION)] = "",
        model_uri: ModelUri | None = None,
        parent: Parent | None = None,
        run_id: RunId | None = None,
    ) -> "ModelVersion":
        """Add a model version to the registry (an existing model+version is a conflict, never overwritten).

        Record how it was trained (framework, algorithm, metrics such as accuracy, hyperparameters),
        where it lives (model_uri, used to deploy it on promotion) and what it was derived from
        (parent, for lineage). It starts in development or staging; use promote_model to move it.
        With MLflow enabled, run_id names the MLflow run it was trained in: the run's metrics and
        params are copied (the ones given here win).
        """
        return services().registry.register_model(
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

    @server.tool(annotations=SETS)
    @boundary
    def promote_model(
        model_id: ModelId,
        version: Version,
        target_stage: StageName,
        force: bool = False,
        note: Annotated[str, Field(max_length=MAX_NOTE)] = "",
    ) -> ServedStageChange:
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
    def rollback_model(model_id: ModelId) -> ServedStageChange:
        """Return the previous production version to production (and to serving); the current one
        is archived. Repeated rollbacks walk further back."""
        return with_serving(services().registry.rollback_model(model_id, actor=current_caller().name))

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_model(model_id: ModelId, version: Version | None = None, stage: StageName | None = None) -> "ModelVersion":
        """One registered version: by version, by stage (e.g. stage='production' for the production
        model), or the latest version when neither is given."""
        return services().registry.get_model(model_id, version=version, stage=stage)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def search_models(
        model_id: ModelId | None = None,
        framework: Label | None = None,
        algorithm: Label | None = None,
        stage: list[StageName] | None = None,
        tags: Tags | None = None,
        metrics: MetricConditions | None = None,
        text: Annotated[str, Field(max_length=MAX_TEXT)] | None = None,
        order_by: SortKeys | None = None,
        offset: Annotated[int, Field(ge=0)] = 0,
        limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 50,
    ) -> "SearchPage":
        """Find versions by model, framework, algorithm, stage, tags, metric conditions and text in the
        description; sorted and paged (use next_offset for the next page)."""
        return services().registry.search_models(
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

    @server.tool(annotations=READ_ONLY)
    @boundary
    def compare_models(
        model_id: ModelId, version_a: Version, version_b: Version, model_id_b: ModelId | None = None
    ) -> "Comparison":
        """Compare two versions (of one model, or of model_id and model_id_b): metric differences
        (absolute and relative), differing hyperparameters, stages, ages and lineage relation."""
        return services().registry.compare_models(model_id, version_a, version_b, model_id_b=model_id_b)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def get_lineage(model_id: ModelId, version: Version) -> "Lineage":
        """A version's ancestors (parent first) and descendants (breadth first)."""
        return services().registry.get_lineage(model_id, version)

    @server.tool(annotations=READ_ONLY)
    @boundary
    def registry_stats() -> "RegistryStatistics":
        """How many models and versions, how many in production, counts by stage and framework."""
        return services().registry.get_statistics()

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
            listed = [show(v).model_dump(mode="json") for v in versions]
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
