"""Delivering one outbox entry to MLflow. Every delivery is idempotent (the relay delivers at
least once), so each first looks for what an earlier attempt may have created.

Registry (with `enable_mlflow_registry`):
- A registered version becomes a model version of the registered model named like our model,
  found again by its `nba_version` tag. Its tags: `framework`, `algorithm`, `stage`,
  `nba_version`, `model_uri`, `registered_by`, `parent` and the version's own tags; its
  description is ours. Metrics and hyperparameters go into a *registration run* (tag
  `nba_kind=registration`) that the version links to, so MLflow compares versions by their runs
  like any other model; a local model file is uploaded into that run (`model/`), so the
  version's source is downloadable (`models:/name/N` serves on another machine). A version
  whose URI is already MLflow's (`runs:/<run>/...`, `models:/...`) links to that run or version.
  A version imported from MLflow (tag `mlflow_version`) links to the version it came from and
  is tagged, but keeps MLflow's stage and aliases until a later stage change of ours.
- A stage change sets the `stage` tag and the `production` / `staging` alias; an alias that
  points at a version leaving that stage is removed (archiving removes it). MLflow's
  deprecated stages (`transition_model_version_stage`) are never used. A deleted version is
  tagged `stage=deleted`, never deleted in MLflow.

Runs (with `enable_mlflow`), in the configured experiment:
- each deployment is a run (tags `nba_kind=deployment`, `model_id`, `version`, `model_uri`;
  params: the serving settings and the routing), finished when the version is undeployed; its
  `active` tag follows the active version;
- each A/B test and shadow set-up is a run (params: versions and weights, or version and
  fraction) finished when it is cleared or replaced;
- serving metrics, drift checks and performance reports are metrics of the deployment run
  of their version, stamped with the time they were measured.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from nba_mcp_deploy.errors import DeployError, NotFoundError, RemoteError
from nba_mcp_deploy.mlflow_sync import events
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.paths import confine
from nba_mcp_deploy.registry.outbox import OutboxEntry
from nba_mcp_deploy.registry.runs import SOURCE_RUN_TAG
from nba_mcp_deploy.serving.control import ControlKind
from nba_mcp_deploy.serving.routing_document import RoutingDocument

ALIASES = ("production", "staging")
DELETED = "deleted"
# Tags of ours on a model version; the version's own tags never replace them.
VERSION_TAG_KEYS = ("framework", "algorithm", "stage", "nba_version", "model_uri", "registered_by", "parent")
IMPORTED_MODEL_TAG = "mlflow_model"
IMPORTED_VERSION_TAG = "mlflow_version"
_MAY_END_EXPERIMENTS = frozenset(
    {ControlKind.ACTIVATED, ControlKind.UNDEPLOYED, ControlKind.AB_TEST_CLEARED, ControlKind.SHADOW_CLEARED}
)


class Delivery:
    """Applies outbox entries to MLflow through `gateway`. `registry` and `runs` say which
    topics are mirrored (the others are acknowledged and dropped, e.g. after a config change)."""

    def __init__(self, gateway: MlflowGateway, *, model_roots: tuple[Path, ...], registry: bool, runs: bool) -> None:
        self._gw = gateway
        self._roots = model_roots
        self._handlers: dict[str, Callable[[Mapping[str, Any]], None]] = {}
        if registry:
            self._handlers[events.REGISTERED] = self._registered
            self._handlers[events.STAGE_CHANGED] = self._stage_changed
        if runs:
            self._handlers[events.CONTROL] = self._control
            self._handlers[events.SERVING_METRICS] = self._serving_metrics
            self._handlers[events.REPORT] = self._report
        self._deployment_runs: dict[tuple[str, str], str] = {}

    def __call__(self, entry: OutboxEntry) -> None:
        handler = self._handlers.get(entry.topic)
        if handler is not None:
            handler(entry.payload)
        elif entry.topic not in events.TOPICS:
            raise RemoteError(f"unknown outbox topic {entry.topic!r}: written by a newer nba-mcp-deploy?")

    # -- registry --------------------------------------------------------------------------------

    def _registered(self, p: Mapping[str, Any]) -> None:
        name, ours = p["model_id"], p["version"]
        client = self._gw.client
        with self._gw.calls(f"creating registered model {name}"):
            if not client.search_registered_models(f"name = '{name}'"):
                try:
                    client.create_registered_model(name, description="Mirrored from nba-mcp-deploy.")
                except Exception as exc:  # created meanwhile by another writer
                    if "RESOURCE_ALREADY_EXISTS" not in str(exc):
                        raise
        tags = _version_tags(p)
        found = self._gw.find_version(name, ours)
        imported = self._imported_version(name, p["tags"])
        if imported is not None and (found is None or str(found.version) == str(imported.version)):
            # It came from MLflow: link and tag it, but its stage and aliases stay MLflow's (a
            # difference is a conflict sync_registry reports); later stage changes of ours apply.
            with self._gw.calls(f"tagging version {imported.version} of {name}"):
                for key, value in tags.items():
                    if key != "stage":
                        client.set_model_version_tag(name, imported.version, key, value)
            return
        if found is None:
            run_id, source = self._version_source(p)
            with self._gw.calls(f"creating a version of {name} for {ours}"):
                found = client.create_model_version(
                    name, source, run_id=run_id, tags=tags, description=p["description"] or None, await_creation_for=0
                )
        self._set_stage(name, str(found.version), p["stage"])

    def _imported_version(self, name: str, tags: Mapping[str, str]) -> Any | None:
        """The MLflow version a version imported by `sync_from_mlflow` came from."""
        number = tags.get(IMPORTED_VERSION_TAG)
        if number is None or tags.get(IMPORTED_MODEL_TAG, name) != name:
            return None
        try:
            with self._gw.calls(f"reading version {number} of {name}"):
                return self._gw.client.get_model_version(name, number)
        except NotFoundError:
            return None

    def _version_source(self, p: Mapping[str, Any]) -> tuple[str | None, str]:
        """The run a new model version links to, and its source (see the module doc): a model
        already in MLflow links to its own run; anything else to a registration run."""
        uri: str | None = p["model_uri"]
        if uri is not None and uri.startswith("runs:/"):
            return uri.split("/")[1], uri
        if uri is not None and uri.startswith("models:/"):
            return None, uri  # MLflow links the run of the version it names
        run_id = self._registration_run(p)
        if uri is not None and _is_remote(uri):
            return run_id, uri
        path = self._local_model(uri)
        if path is None or path.is_dir():
            return run_id, f"runs:/{run_id}/model"
        return run_id, f"runs:/{run_id}/model/{path.name}"

    def _registration_run(self, p: Mapping[str, Any]) -> str:
        """The run holding a version's metrics, hyperparameters and model file."""
        tags = {"nba_kind": "registration", "model_id": p["model_id"], "version": p["version"]}
        source_run = p["tags"].get(SOURCE_RUN_TAG)
        linked = {} if source_run is None else {SOURCE_RUN_TAG: source_run}
        run_id = self._run_once(
            tags,
            f"register {p['model_id']} {p['version']}",
            {**tags, "framework": p["framework"], "algorithm": p["algorithm"], **linked},
            p["registered_at"],
        )
        self._gw.log_batch(
            run_id,
            metrics=p["metrics"],
            at=p["registered_at"],
            params={k: _param_text(v) for k, v in p["hyperparameters"].items()},
        )
        path = self._local_model(p["model_uri"])
        with self._gw.calls(f"uploading the model of {p['model_id']}:{p['version']} to run {run_id}"):
            if path is not None and path.is_dir():
                self._gw.client.log_artifacts(run_id, str(path), "model")
            elif path is not None:
                self._gw.client.log_artifact(run_id, str(path), "model")
        self._gw.finish_run(run_id)
        return run_id

    def _local_model(self, uri: str | None) -> Path | None:
        """The trusted local file or directory `uri` names; None if it is remote, untrusted or gone."""
        if uri is None or uri.startswith(("runs:/", "models:/")) or _is_remote(uri):
            return None
        try:
            path = confine(uri.removeprefix("file://"), self._roots, what="model files", field="model_uri")
        except DeployError:
            return None  # untrusted or gone: the version is mirrored without its file
        return path if path.exists() else None

    def _stage_changed(self, p: Mapping[str, Any]) -> None:
        name, ours = p["model_id"], p["version"]
        found = self._gw.find_version(name, ours)
        if found is None:
            raise RemoteError(f"{name}:{ours} has no MLflow version yet (its registration was not delivered)")
        with self._gw.calls(f"tagging version {found.version} of {name}"):
            self._gw.client.set_model_version_tag(name, found.version, "stage_reason", p["reason"])
        self._set_stage(name, str(found.version), p["to_stage"] or DELETED)

    def _set_stage(self, name: str, number: str, stage: str) -> None:
        """The `stage` tag, the alias of that stage, and no other alias of ours on this version."""
        client = self._gw.client
        with self._gw.calls(f"setting the stage of version {number} of {name}"):
            client.set_model_version_tag(name, number, "stage", stage)
            if stage in ALIASES:
                client.set_registered_model_alias(name, stage, number)
            aliases = client.get_registered_model(name).aliases
            for alias in ALIASES:
                if alias != stage and str(aliases.get(alias)) == number:
                    client.delete_registered_model_alias(name, alias)

    # -- runs ------------------------------------------------------------------------------------

    def _control(self, p: Mapping[str, Any]) -> None:
        kind, model_id, version, at = ControlKind(p["kind"]), p["model_id"], p["version"], p["at"]
        routing = RoutingDocument.from_json(p["routing"])
        if kind is ControlKind.DEPLOYED:
            self._deployed(p)
        elif kind is ControlKind.ACTIVATED:
            for name in routing.version_names():
                run_id = self._deployment_run(model_id, name)
                self._set_run_tags(run_id, {"active": str(name == version).lower()})
        elif kind is ControlKind.UNDEPLOYED:
            self._gw.finish_run(self._deployment_run(model_id, version), at)
            self._deployment_runs.pop((model_id, version), None)
        elif kind in (ControlKind.AB_TEST_SET, ControlKind.SHADOW_SET):
            self._experiment_run(p)
        if kind in _MAY_END_EXPERIMENTS:  # also implicitly: activating or undeploying the shadow version ends it
            for kind_tag, ended in (("ab_test", routing.split is None), ("shadow", routing.shadow is None)):
                if ended:
                    self._finish_running(kind_tag, model_id, at)

    def _deployed(self, p: Mapping[str, Any]) -> None:
        model_id, version, routing = p["model_id"], p["version"], RoutingDocument.from_json(p["routing"])
        entry = next(v for v in routing.versions if v.version == version)
        key = {"nba_kind": "deployment", "nba_key": f"{model_id}:{version}:{entry.deployed_at}"}
        tags = {
            **key,
            "model_id": model_id,
            "version": version,
            "model_uri": str(entry.model_uri),
            "active": str(routing.active == version).lower(),
        }
        run_id = self._run_once(key, f"deploy {model_id} {version}", tags, p["at"])
        params = {**p["settings"], "model_uri": str(entry.model_uri), "routing": json.dumps(p["routing"])}
        self._gw.log_batch(run_id, params=params)
        self._deployment_runs[(model_id, version)] = run_id

    def _experiment_run(self, p: Mapping[str, Any]) -> None:
        """An A/B test or shadow set-up: a run of its own; the one it replaces is finished."""
        model_id, routing, at = p["model_id"], RoutingDocument.from_json(p["routing"]), p["at"]
        ab = p["kind"] == ControlKind.AB_TEST_SET.value
        kind_tag = "ab_test" if ab else "shadow"
        key = {"nba_kind": kind_tag, "nba_key": f"{kind_tag}:{model_id}:{at}"}
        if ab:
            split = routing.split
            assert split is not None, "an A/B test set-up saves its split"
            name = f"A/B test {model_id} {' vs '.join(split.versions)}"
            tags = {"versions": ",".join(split.versions)}
            params = {"versions": ",".join(split.versions), "sticky": str(split.sticky)}
            params.update({f"weight.{v}": str(w) for v, w in zip(split.versions, split.weights, strict=True)})
        else:
            shadow = routing.shadow
            assert shadow is not None, "a shadow set-up saves its shadow"
            name = f"shadow {model_id} {shadow.version}"
            tags = {"version": shadow.version, "live_version": str(routing.active)}
            params = {"shadow_version": shadow.version, "fraction": str(shadow.fraction)}
            params["active_version"] = str(routing.active)
        replaced = functools.partial(self._finish_running, kind_tag, model_id, at)
        run_id = self._run_once(key, name, {**tags, **key, "model_id": model_id}, at, before_create=replaced)
        self._gw.log_batch(run_id, params={**p["settings"], **params})

    def _finish_running(self, kind_tag: str, model_id: str, at: float) -> None:
        for run in self._gw.find_runs({"nba_kind": kind_tag, "model_id": model_id}, running_only=True, limit=50):
            self._gw.finish_run(run.info.run_id, at)

    def _serving_metrics(self, p: Mapping[str, Any]) -> None:
        for entry in p["entries"]:
            run_id = self._deployment_run(entry["model_id"], entry["version"])
            self._gw.log_batch(run_id, metrics=entry["metrics"], at=p["at"], step=int(p["at"]))

    def _report(self, p: Mapping[str, Any]) -> None:
        if p["version"] is None:
            run_id = self._monitoring_run(p["model_id"], p["at"])
        else:
            run_id = self._deployment_run(p["model_id"], p["version"])
        self._gw.log_batch(run_id, metrics=p["metrics"], at=p["at"], step=int(p["at"]))

    def _deployment_run(self, model_id: str, version: str) -> str:
        """The latest deployment run of a version; one is made for a version deployed before
        MLflow was enabled."""
        cached = self._deployment_runs.get((model_id, version))
        if cached is not None:
            return cached
        tags = {"nba_kind": "deployment", "model_id": model_id, "version": version}
        run_id = self._run_once(tags, f"deploy {model_id} {version}", {**tags, "nba_key": f"{model_id}:{version}"}, 0)
        self._deployment_runs[(model_id, version)] = run_id
        return run_id

    def _monitoring_run(self, model_id: str, at: float) -> str:
        tags = {"nba_kind": "monitoring", "model_id": model_id}
        return self._run_once(tags, f"monitor {model_id}", tags, at)

    def _run_once(
        self,
        key: Mapping[str, str],
        name: str,
        tags: Mapping[str, str],
        at: float,
        before_create: Callable[[], None] | None = None,
    ) -> str:
        """The run carrying the `key` tags, made (with `tags`) unless an earlier delivery made it.
        What is logged to it afterwards must be the same on a second delivery (MLflow keeps one)."""
        found = self._gw.find_runs(key)
        if found:
            return str(found[0].info.run_id)
        if before_create is not None:
            before_create()
        return self._create_run(name, tags, at)

    def _create_run(self, name: str, tags: Mapping[str, str], at: float) -> str:
        with self._gw.calls(f"creating run {name!r}"):
            run = self._gw.client.create_run(
                self._gw.experiment_id(), start_time=int(at * 1000) or None, tags=dict(tags), run_name=name
            )
        return str(run.info.run_id)

    def _set_run_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        with self._gw.calls(f"tagging run {run_id}"):
            for key, value in tags.items():
                self._gw.client.set_tag(run_id, key, value)


def _version_tags(p: Mapping[str, Any]) -> dict[str, str]:
    ours = {
        "framework": p["framework"],
        "algorithm": p["algorithm"],
        "stage": p["stage"],
        "nba_version": p["version"],
        "model_uri": p["model_uri"] or "",
        "registered_by": p["registered_by"],
        "parent": p["parent"] or "",
    }
    return {**{k: str(v) for k, v in p["tags"].items()}, **{k: v for k, v in ours.items() if v}}


def _is_remote(uri: str) -> bool:
    """A URI MLflow can reach as it is (s3://, gs://, http(s)://, mlflow-artifacts:/, ...)."""
    return ("://" in uri or uri.startswith("mlflow-artifacts:")) and not uri.startswith("file://")


def _param_text(value: Any) -> str:
    """A hyperparameter as MLflow param text: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
