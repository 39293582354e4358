"""`sync_from_mlflow`: bring models and versions that live in MLflow into our registry.

Each MLflow version becomes our version `v<N>` (or keeps the name in its `nba_version` tag, if
it was mirrored from a registry once), with `model_uri = models:/<name>/<N>`, MLflow's
description, its `framework` / `algorithm` tags (else `mlflow` / the run's estimator class),
the metrics and params of its run, and tags `mlflow_model` / `mlflow_version` naming where it
came from. Its stage comes from the `production` / `staging` alias, else its `stage` tag, else
development; production is reached by promotion, so serving deploys it like any promotion.

Nothing of ours is ever overwritten. Each disagreement is reported as a conflict and left as
it is: a name that is not a valid model id, our version of that name holding another model,
a different production version on each side, a stage that differs for an already imported
version. Importing twice imports nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nba_mcp_deploy.errors import DeployError, InvalidInputError, NotFoundError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.mlflow_sync.delivery import (
    ALIASES,
    DELETED,
    IMPORTED_MODEL_TAG,
    IMPORTED_VERSION_TAG,
    VERSION_TAG_KEYS,
)
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.mlflow_sync.runs import MlflowTrainingRuns
from nba_mcp_deploy.registry.records import ModelVersion
from nba_mcp_deploy.registry.registry import ModelRegistry
from nba_mcp_deploy.registry.runs import TrainingRun, run_hyperparameters, run_metrics
from nba_mcp_deploy.registry.stages import Stage
from nba_mcp_deploy.registry.validation import MAX_TAGS, NAME_PATTERN, canonical_version

IMPORT_ACTOR = "mlflow-import"
_TAG_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class SyncConflict:
    """Something MLflow and the registry disagree on, left as it is."""

    model_id: str
    version: str | None
    mlflow_version: str | None
    problem: str


@dataclass(frozen=True)
class ImportedVersion:
    model_id: str
    version: str
    mlflow_version: str
    stage: str


@dataclass
class ImportReport:
    """What one import did: versions imported, conflicts found, versions already in step."""

    imported: list[ImportedVersion] = field(default_factory=list)
    conflicts: list[SyncConflict] = field(default_factory=list)
    unchanged: int = 0


def sync_from_mlflow(registry: ModelRegistry, gateway: MlflowGateway, model_id: str | None = None) -> ImportReport:
    """Import every registered model of MLflow (or only `model_id`) into `registry`."""
    gateway.check()
    report = ImportReport()
    runs = MlflowTrainingRuns(gateway)
    filter_string = "" if model_id is None else f"name = '{validate_model_id(model_id)}'"
    with gateway.calls("listing registered models"):
        models = list(gateway.client.search_registered_models(filter_string, max_results=1000))
    for model in models:
        name = str(model.name)
        try:
            validate_model_id(name)
        except InvalidInputError as exc:
            report.conflicts.append(SyncConflict(name, None, None, f"not imported: {exc.allowed}"))
            continue
        with gateway.calls(f"listing versions of {name}"):
            versions = list(gateway.client.search_model_versions(f"name = '{name}'", max_results=10_000))
        aliases = {str(number): alias for alias, number in dict(model.aliases).items() if alias in ALIASES}
        for mlflow_version in sorted(versions, key=lambda v: int(v.version)):
            _import_one(registry, runs, name, mlflow_version, aliases, report)
    return report


def _import_one(
    registry: ModelRegistry,
    runs: MlflowTrainingRuns,
    name: str,
    mv: Any,
    aliases: Mapping[str, str],
    report: ImportReport,
) -> None:
    number = str(mv.version)
    tags = {str(k): str(v) for k, v in dict(mv.tags).items()}
    stage = _mlflow_stage(aliases.get(number), tags.get("stage"))
    if stage is None:
        return  # deleted in our registry and only tagged in MLflow: nothing to bring back
    ours_name = tags.get("nba_version") or f"v{number}"
    try:
        ours_name = canonical_version(ours_name)
    except InvalidInputError:
        report.conflicts.append(SyncConflict(name, None, number, f"version name {ours_name!r} is not one of ours"))
        return
    existing = _existing(registry, name, ours_name)
    if existing is not None:
        _compare_existing(existing, number, stage, tags, report)
        return
    if stage is Stage.PRODUCTION and (current := _production(registry, name)) is not None:
        report.conflicts.append(
            SyncConflict(
                name,
                ours_name,
                number,
                f"MLflow's production alias is on version {number} but the registry's production version is "
                f"{current.ref}; imported in staging, production left as it is",
            )
        )
        stage = Stage.STAGING
    try:
        run = runs.get_run(mv.run_id) if mv.run_id else None
    except NotFoundError:
        run = None
    try:
        start = _register(registry, name, ours_name, mv, number, stage, tags, run)
    except DeployError as exc:
        report.conflicts.append(SyncConflict(name, ours_name, number, f"not imported: {exc}"))
        return
    if stage is not start:
        try:
            registry.promote_model(
                name, ours_name, stage, actor=IMPORT_ACTOR, note=f"imported from MLflow version {number}"
            )
        except DeployError as exc:  # e.g. the model did not load for serving: production refused it
            message = f"imported in {start.value}, but moving it to {stage.value} as in MLflow failed: {exc}"
            report.conflicts.append(SyncConflict(name, ours_name, number, message))
            stage = start
    report.imported.append(ImportedVersion(name, ours_name, number, stage.value))


def _mlflow_stage(alias: str | None, stage_tag: str | None) -> Stage | None:
    """The stage MLflow gives a version: its alias, else its `stage` tag, else development."""
    if stage_tag == DELETED:
        return None
    if alias is not None:
        return Stage(alias)
    if stage_tag in {s.value for s in Stage}:
        return Stage(stage_tag)
    return Stage.DEVELOPMENT


def _existing(registry: ModelRegistry, model_id: str, version: str) -> ModelVersion | None:
    try:
        return registry.get_model(model_id, version)
    except NotFoundError:
        return None


def _production(registry: ModelRegistry, model_id: str) -> ModelVersion | None:
    try:
        return registry.get_production_model(model_id)
    except NotFoundError:
        return None


def _compare_existing(
    ours: ModelVersion, number: str, stage: Stage, tags: Mapping[str, str], report: ImportReport
) -> None:
    """An MLflow version whose name we already have: the same one (in step or not), or another."""
    same = tags.get("nba_version") == ours.version or (
        ours.tags.get(IMPORTED_MODEL_TAG) == ours.model_id and ours.tags.get(IMPORTED_VERSION_TAG) == number
    )
    if not same:
        report.conflicts.append(
            SyncConflict(
                ours.model_id,
                ours.version,
                number,
                f"the registry's {ours.ref} (model_uri {ours.model_uri}) is not MLflow version {number}; "
                "left as it is (register the MLflow version under another name to keep both)",
            )
        )
    elif stage is not ours.stage:
        report.conflicts.append(
            SyncConflict(
                ours.model_id,
                ours.version,
                number,
                f"stage differs: the registry says {ours.stage.value}, MLflow says {stage.value}; the "
                "registry's stage stands (promote_model to change it; MLflow follows)",
            )
        )
    else:
        report.unchanged += 1


def _register(
    registry: ModelRegistry,
    name: str,
    version: str,
    mv: Any,
    number: str,
    stage: Stage,
    tags: Mapping[str, str],
    run: TrainingRun | None,
) -> Stage:
    """Register the MLflow version in the stage it can start in (returned); see `_import_one`."""
    start = Stage.STAGING if stage in (Stage.STAGING, Stage.PRODUCTION) else Stage.DEVELOPMENT
    run_tags = run.tags if run is not None else {}
    registry.register_model(
        name,
        version,
        stage=start,
        framework=tags.get("framework") or "mlflow",
        algorithm=tags.get("algorithm") or _estimator(run_tags),
        metrics=run_metrics(run) if run is not None else None,
        hyperparameters=run_hyperparameters(run) if run is not None else None,
        tags=_imported_tags(tags, name, number),
        description=str(mv.description or "")[:4000],
        model_uri=f"models:/{name}/{number}",
        actor=IMPORT_ACTOR,
    )
    return start


def _estimator(run_tags: Mapping[str, str]) -> str:
    estimator = run_tags.get("estimator_name") or run_tags.get("estimator_class", "").rpartition(".")[2]
    return estimator[:64] or "unknown"


def _imported_tags(tags: Mapping[str, str], name: str, number: str) -> dict[str, str]:
    """MLflow's own tags that fit our rules, plus where the version came from."""
    kept = {
        k: v[:256]
        for k, v in sorted(tags.items())
        if k not in VERSION_TAG_KEYS and _TAG_NAME.fullmatch(k) and "\n" not in v and not k.startswith("mlflow.")
    }
    kept = dict(list(kept.items())[: MAX_TAGS - 2])
    return {**kept, IMPORTED_MODEL_TAG: name, IMPORTED_VERSION_TAG: number}
