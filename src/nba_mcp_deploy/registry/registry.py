"""`ModelRegistry`: the catalogue's Python API, deciding in the core and persisting through a store.

Every write follows one path: read the current state, plan the changes with the pure rules of
`lifecycle.py`, tell the listeners, let the store apply the plan compare-and-set, tell the
listeners again. If another thread or process changed the model in between, the store refuses
the plan and the registry plans again from the new state (a bounded number of times).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nba_mcp_deploy.clock import Clock, SystemClock
from nba_mcp_deploy.errors import ConflictError, InvalidInputError, NotFoundError
from nba_mcp_deploy.identifiers import validate_model_id
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.registry import lifecycle
from nba_mcp_deploy.registry.compare import Comparison, compare
from nba_mcp_deploy.registry.lineage import Lineage, get_lineage, relate, walk_ancestors
from nba_mcp_deploy.registry.listeners import StageListener
from nba_mcp_deploy.registry.records import (
    ChangeReason,
    ModelSummary,
    ModelVersion,
    RegistryStatistics,
    StageChange,
    StageChangeResult,
    VersionRef,
)
from nba_mcp_deploy.registry.runs import (
    SOURCE_RUN_TAG,
    TrainingRuns,
    run_hyperparameters,
    run_metrics,
)
from nba_mcp_deploy.registry.search import SearchPage, SearchQuery, SortKey, build_query
from nba_mcp_deploy.registry.stages import REGISTRATION_STAGES, Stage, parse_stage
from nba_mcp_deploy.registry.store import VersionStore
from nba_mcp_deploy.registry.validation import (
    MAX_DESCRIPTION,
    MAX_NOTE,
    canonical_version,
    validate_actor,
    validate_hyperparameters,
    validate_label,
    validate_metrics,
    validate_model_uri,
    validate_tags,
    validate_text,
)

logger = get_logger("registry")

DEFAULT_ACTOR = "local"
RUN_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
RUN_ID = re.compile(RUN_ID_PATTERN)
MAX_PLAN_ATTEMPTS = 50
_LATEST_FIRST = (SortKey("version", descending=True),)

# A planned change together with the version as it was when the change was planned.
Planned = list[tuple[ModelVersion, StageChange]]


class ModelRegistry:
    """Register, promote, roll back, search, compare and trace model versions.

    `store` persists (see VersionStore); `clock` stamps records; `listeners` are told about
    every stage change (see StageListener) — the serving layer uses them to deploy and
    activate promoted versions; `use_runs` attaches where training runs are read (see runs.py).
    Thread-safe as long as the store is.
    """

    def __init__(
        self,
        store: VersionStore,
        *,
        clock: Clock | None = None,
        listeners: Sequence[StageListener] = (),
    ) -> None:
        self._store = store
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._listeners: tuple[StageListener, ...] = tuple(listeners)
        self._runs: TrainingRuns | None = None  # attached by `use_runs` once MLflow is set up

    @property
    def store(self) -> VersionStore:
        """Where the versions are kept."""
        return self._store

    @property
    def runs(self) -> TrainingRuns | None:
        """Where training runs are read from; None when no tracker is configured."""
        return self._runs

    def add_listener(self, listener: StageListener) -> None:
        """Tell `listener` about every later stage change."""
        self._listeners = (*self._listeners, listener)

    def use_runs(self, runs: TrainingRuns | None) -> None:
        """Read training runs from `runs` from now on (set when MLflow is enabled)."""
        self._runs = runs

    # -- writes ----------------------------------------------------------------------------

    def register_model(
        self,
        model_id: str,
        version: str,
        *,
        stage: Stage | str = Stage.DEVELOPMENT,
        framework: str = "unknown",
        algorithm: str = "unknown",
        metrics: Mapping[str, float] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        model_uri: str | None = None,
        parent: VersionRef | str | None = None,
        actor: str = DEFAULT_ACTOR,
        run_id: str | None = None,
    ) -> ModelVersion:
        """Add a new version; an existing (model_id, version) is a ConflictError, never overwritten.

        `parent` is the version this one was derived from: `v1.0` (same model) or
        `other_model:v1.0`; it must exist. New versions start in development or staging.
        `run_id` names the training run it came from (needs a tracker, see `runs`): the run's
        metrics and parameters are copied (the ones given here win) and the version is tagged
        with the run id.
        """
        model_id, version = validate_model_id(model_id), canonical_version(version)
        if run_id is not None:
            metrics, hyperparameters, tags = self._from_run(run_id, metrics, hyperparameters, tags)
        start = parse_stage(stage)
        if start not in REGISTRATION_STAGES:
            allowed = ", ".join(s.value for s in REGISTRATION_STAGES)
            raise InvalidInputError(
                "stage",
                start.value,
                f"a new version starts in {allowed}; then promote_model it to {start.value}",
            )
        parent_ref = None if parent is None else VersionRef.parse(parent, default_model_id=model_id)
        if parent_ref is not None and parent_ref == VersionRef(model_id, version):
            raise InvalidInputError("parent", str(parent_ref), "a version cannot be its own parent")
        now, actor = self._clock.now(), validate_actor(actor)
        record = ModelVersion(
            model_id=model_id,
            version=version,
            stage=start,
            framework=validate_label(framework, "framework"),
            algorithm=validate_label(algorithm, "algorithm"),
            metrics=validate_metrics(metrics),
            hyperparameters=validate_hyperparameters(hyperparameters),
            tags=validate_tags(tags),
            description=validate_text(description, "description", max_length=MAX_DESCRIPTION),
            model_uri=validate_model_uri(model_uri),
            parent=parent_ref,
            registered_at=now,
            registered_by=actor,
            stage_changed_at=now,
        )
        change = StageChange(model_id, version, None, start, now, actor, ChangeReason.REGISTERED)
        self._before([(record, change)])
        committed = self._store.add_version(record, change)
        self._after([(record, committed)])
        return record

    def promote_model(
        self,
        model_id: str,
        version: str,
        target_stage: Stage | str,
        *,
        force: bool = False,
        actor: str = DEFAULT_ACTOR,
        note: str = "",
    ) -> StageChangeResult:
        """Move a version to `target_stage` along the allowed transitions (see stages.py).

        Promoting to production archives the current production version (recorded as
        superseded). Taking the production version out of production needs `force=True`.
        """
        ref = self._ref(model_id, version)
        target = parse_stage(target_stage, "target_stage")
        actor, note = validate_actor(actor), validate_text(note, "note", max_length=MAX_NOTE, single_line=True)

        def plan() -> Planned:
            current = self._store.get_version(ref.model_id, ref.version)
            production = self._production(ref.model_id) if target is Stage.PRODUCTION else None
            changes = lifecycle.plan_promotion(
                current, target, production, force=force, now=self._clock.now(), actor=actor, note=note
            )
            return _pair(changes, current, production)

        return self._result(self._apply(plan), ref)

    def rollback_model(self, model_id: str, *, actor: str = DEFAULT_ACTOR) -> StageChangeResult:
        """Archive the production version and return the version it replaced to production.

        Repeated rollbacks walk further back through the versions that held production.
        """
        model_id, actor = validate_model_id(model_id), validate_actor(actor)
        self._require_model(model_id)

        def plan() -> Planned:
            production = lifecycle.require_production(model_id, self._production(model_id))
            target_version = lifecycle.rollback_target(model_id, production, self._store.history(model_id))
            target = self._store.get_version(model_id, target_version)
            changes = lifecycle.plan_rollback(production, target, now=self._clock.now(), actor=actor)
            return _pair(changes, production, target)

        applied = self._apply(plan)
        restored = applied[-1][0]
        return StageChangeResult(restored, tuple(c for _, c in applied), applied[0][0].ref)

    def retire_model(
        self, model_id: str, version: str, *, force: bool = False, actor: str = DEFAULT_ACTOR
    ) -> StageChangeResult:
        """Archive a version that is no longer wanted; the production version needs `force=True`."""
        ref, actor = self._ref(model_id, version), validate_actor(actor)

        def plan() -> Planned:
            current = self._store.get_version(ref.model_id, ref.version)
            return _pair(lifecycle.plan_retirement(current, force=force, now=self._clock.now(), actor=actor), current)

        return self._result(self._apply(plan), ref)

    def delete_model(
        self, model_id: str, version: str | None = None, *, force: bool = False, actor: str = DEFAULT_ACTOR
    ) -> tuple[StageChange, ...]:
        """Delete one version, or every version of the model when `version` is None.

        The production version needs `force=True`. The history is kept; children keep their
        link to a deleted parent (their lineage then reports it as missing).
        """
        model_id, actor = validate_model_id(model_id), validate_actor(actor)
        wanted = None if version is None else canonical_version(version)

        def plan() -> Planned:
            if wanted is None:
                versions = self._store.list_versions(model_id)
                if not versions:
                    raise self._unknown_model(model_id)
            else:
                versions = [self._store.get_version(model_id, wanted)]
            changes = lifecycle.plan_deletion(versions, force=force, now=self._clock.now(), actor=actor)
            return _pair(changes, *versions)

        return tuple(change for _, change in self._apply(plan))

    def set_parent(self, model_id: str, version: str, parent: VersionRef | str | None) -> ModelVersion:
        """Record (or with None, remove) the version this one was derived from; cycles are refused."""
        ref = self._ref(model_id, version)
        parent_ref = None if parent is None else VersionRef.parse(parent, default_model_id=ref.model_id)
        if parent_ref == ref:
            raise InvalidInputError("parent", str(parent_ref), "a version cannot be its own parent")
        return self._store.set_parent(ref.model_id, ref.version, parent_ref)

    # -- reads -----------------------------------------------------------------------------

    def get_model(self, model_id: str, version: str | None = None, stage: Stage | str | None = None) -> ModelVersion:
        """One version: the named one; else the latest in `stage`; else production, else the latest."""
        model_id = validate_model_id(model_id)
        wanted_stage = None if stage is None else parse_stage(stage)
        if version is not None:
            found = self._store.get_version(model_id, canonical_version(version))
            if wanted_stage is not None and found.stage is not wanted_stage:
                raise NotFoundError(f"{found.ref} is in {found.stage.value}, not {wanted_stage.value}")
            return found
        stages = (wanted_stage,) if wanted_stage is not None else (Stage.PRODUCTION, None)
        for candidate_stage in stages:
            hit = self._latest(model_id, candidate_stage)
            if hit is not None:
                return hit
        self._require_model(model_id)
        counts = ", ".join(f"{k}: {n}" for k, n in self._stage_counts(model_id).items() if n)
        raise NotFoundError(f"{model_id} has no version in {wanted_stage}; its versions by stage: {counts}")

    def get_production_model(self, model_id: str) -> ModelVersion:
        """The production version of a model (NotFoundError if it has none)."""
        return self.get_model(model_id, stage=Stage.PRODUCTION)

    def list_models(self) -> list[ModelSummary]:
        """Every model with at least one version, by model id."""
        return self._store.list_models()

    def list_versions(self, model_id: str) -> list[ModelVersion]:
        """Every version of a model, oldest semantic version first (NotFoundError if none)."""
        versions = self._store.list_versions(validate_model_id(model_id))
        if not versions:
            raise self._unknown_model(model_id)
        return versions

    def search_models(
        self,
        *,
        model_id: str | None = None,
        framework: str | None = None,
        algorithm: str | None = None,
        stage: Stage | str | Sequence[Stage | str] | None = None,
        tags: Mapping[str, str] | None = None,
        metrics: Sequence[str] | str | None = None,
        text: str | None = None,
        order_by: Sequence[str] | str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> SearchPage:
        """Versions matching every filter, sorted and paged (see search.py for the syntax).

        `metrics` are conditions like `accuracy >= 0.9`; `order_by` keys like
        `metrics.accuracy desc` or `registered_at desc` (the default).
        """
        query = build_query(
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
        return self._store.search(query)

    def compare_models(
        self,
        model_id: str,
        version_a: str | None = None,
        version_b: str | None = None,
        *,
        model_id_b: str | None = None,
    ) -> Comparison:
        """Compare `model_id:version_a` with `model_id_b:version_b` (model_id_b defaults to model_id).

        A missing version means that model's production version, else its latest.
        """
        a = self.get_model(model_id, version_a)
        b = self.get_model(model_id if model_id_b is None else model_id_b, version_b)
        relation = relate(a, walk_ancestors(self._store, a)[0], b, walk_ancestors(self._store, b)[0])
        return compare(a, b, relation, now=self._clock.now())

    def get_lineage(self, model_id: str, version: str) -> Lineage:
        """A version with its ancestors (parent first) and descendants (breadth first)."""
        ref = self._ref(model_id, version)
        return get_lineage(self._store, self._store.get_version(ref.model_id, ref.version))

    def get_history(self, model_id: str, version: str | None = None) -> list[StageChange]:
        """Every stage change of a model (or one version): when, from, to, by whom, why."""
        model_id = validate_model_id(model_id)
        changes = self._store.history(model_id, None if version is None else canonical_version(version))
        if changes:
            return changes
        if version is None:
            raise self._unknown_model(model_id)
        raise NotFoundError(f"{model_id}:{version} has no recorded history (it was never registered)")

    def get_statistics(self) -> RegistryStatistics:
        """Counts of models, versions, production versions, by stage and by framework."""
        return self._store.statistics()

    # -- internals -------------------------------------------------------------------------

    def _from_run(
        self,
        run_id: str,
        metrics: Mapping[str, float] | None,
        hyperparameters: Mapping[str, Any] | None,
        tags: Mapping[str, str] | None,
    ) -> tuple[dict[str, float], dict[str, Any], dict[str, str]]:
        """What a registration from a training run records: the run's numbers under ours."""
        if self._runs is None:
            raise InvalidInputError(
                "run_id", run_id, "registering from a training run needs MLflow: set MLFLOW_TRACKING_URI"
            )
        if not isinstance(run_id, str) or not RUN_ID.fullmatch(run_id):
            raise InvalidInputError("run_id", run_id, "expected a run id (1-64 letters, digits, '_' or '-')")
        run = self._runs.get_run(run_id)
        return (
            {**run_metrics(run), **(metrics or {})},
            {**run_hyperparameters(run), **(hyperparameters or {})},
            {**(tags or {}), SOURCE_RUN_TAG: run.run_id},
        )

    def _apply(self, plan: Callable[[], Planned]) -> Planned:
        """Plan, tell listeners, apply compare-and-set; plan again if someone else got there first."""
        for _ in range(MAX_PLAN_ATTEMPTS):
            planned = plan()
            self._before(planned)
            try:
                committed = self._store.apply_changes([change for _, change in planned])
            except ConflictError:
                continue
            applied = [
                (_after_change(version, change), change)
                for (version, _), change in zip(planned, committed, strict=True)
            ]
            self._after(applied)
            return applied
        raise ConflictError(
            f"the model kept changing under this request ({MAX_PLAN_ATTEMPTS} attempts); "
            "another writer is busy with it, try again"
        )

    def _before(self, planned: Planned) -> None:
        for version, change in planned:
            for listener in self._listeners:
                listener.before_stage_change(version, change)

    def _after(self, applied: Planned) -> None:
        failure: BaseException | None = None
        for version, change in applied:
            logger.info("stage change", extra=change.to_dict())
            for listener in self._listeners:
                try:
                    listener.on_stage_changed(version, change)
                except Exception as exc:  # told to every listener first, then raised
                    logger.exception("stage listener failed", extra={"listener": type(listener).__name__})
                    failure = failure or exc
        if failure is not None:
            raise failure

    def _result(self, applied: Planned, ref: VersionRef) -> StageChangeResult:
        version = next(v for v, c in applied if c.ref == ref)
        replaced = next((c.ref for _, c in applied if c.ref != ref), None)
        return StageChangeResult(version, tuple(c for _, c in applied), replaced)

    def _ref(self, model_id: str, version: str) -> VersionRef:
        return VersionRef(validate_model_id(model_id), canonical_version(version))

    def _latest(self, model_id: str, stage: Stage | None) -> ModelVersion | None:
        stages = () if stage is None else (stage,)
        page = self._store.search(SearchQuery(model_id=model_id, stages=stages, order_by=_LATEST_FIRST, limit=1))
        return page.items[0] if page.items else None

    def _production(self, model_id: str) -> ModelVersion | None:
        return self._latest(model_id, Stage.PRODUCTION)

    def _stage_counts(self, model_id: str) -> Mapping[str, int]:
        return next(s.stage_counts for s in self._store.list_models() if s.model_id == model_id)

    def _require_model(self, model_id: str) -> None:
        if self._latest(model_id, None) is None:
            raise self._unknown_model(model_id)

    def _unknown_model(self, model_id: str) -> NotFoundError:
        known = [s.model_id for s in self._store.list_models()]
        listed = ", ".join(known[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        return NotFoundError(f"no model {model_id!r} is registered; registered models: {listed or 'none'}")


def _pair(changes: list[StageChange], *versions: ModelVersion | None) -> Planned:
    """Attach to each planned change the version it was planned from."""
    by_ref = {v.ref: v for v in versions if v is not None}
    return [(by_ref[change.ref], change) for change in changes]


def _after_change(version: ModelVersion, change: StageChange) -> ModelVersion:
    if change.to_stage is None:
        return version
    return dataclasses.replace(version, stage=change.to_stage, stage_changed_at=change.changed_at)
