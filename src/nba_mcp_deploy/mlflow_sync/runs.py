"""`MlflowTrainingRuns`: the registry's `TrainingRuns` port, read from MLflow.

The run behind a version is, in order: the run it was registered from (`source_run_id` tag);
the run of its model URI (`runs:/<id>/...`, or the run MLflow records for `models:/name/N` and
`models:/name@alias`); the run of the MLflow version that mirrors it.
"""

from __future__ import annotations

from nba_mcp_deploy.errors import NotFoundError
from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway
from nba_mcp_deploy.mlflow_sync.uris import parse_models_uri
from nba_mcp_deploy.registry.records import ModelVersion
from nba_mcp_deploy.registry.runs import SOURCE_RUN_TAG, TrainingRun


class MlflowTrainingRuns:
    """Reads runs through the gateway; asks whether MLflow answers first, so an outage fails fast."""

    def __init__(self, gateway: MlflowGateway) -> None:
        self._gw = gateway

    def get_run(self, run_id: str) -> TrainingRun:
        self._gw.check()
        with self._gw.calls(f"reading run {run_id}"):
            run = self._gw.client.get_run(run_id)
        return TrainingRun(
            run_id=str(run.info.run_id),
            metrics=dict(run.data.metrics),
            params=dict(run.data.params),
            tags=dict(run.data.tags),
        )

    def run_of(self, version: ModelVersion) -> TrainingRun | None:
        run_id = version.tags.get(SOURCE_RUN_TAG) or self._run_id_of(version)
        if run_id is None:
            return None
        try:
            return self.get_run(run_id)
        except NotFoundError:
            return None

    def _run_id_of(self, version: ModelVersion) -> str | None:
        self._gw.check()
        uri = version.model_uri or ""
        if uri.startswith("runs:/"):
            return uri.split("/")[1]
        client = self._gw.client
        try:
            parsed = parse_models_uri(uri)
            if parsed is not None and parsed.names_registered_version:
                with self._gw.calls(f"resolving {uri}"):
                    if parsed.alias is not None:
                        found = client.get_model_version_by_alias(parsed.name, parsed.alias)
                    else:
                        found = client.get_model_version(parsed.name, parsed.number)
            else:
                found = self._gw.find_version(version.model_id, version.version)
        except NotFoundError:
            return None
        return None if found is None or not found.run_id else str(found.run_id)
