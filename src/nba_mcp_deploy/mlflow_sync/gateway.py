"""The edge to MLflow: the one `MlflowClient`, and MLflow's exceptions translated into ours.

Like httpx's `map_httpcore_exceptions`: every MLflow call runs inside `gateway.calls(what)`, so
nothing above sees an `MlflowException` or a `requests` error:

- no answer (refused connection, retries exhausted, timeout, 5xx, a locked local database)
  -> UnavailableError: the caller waits and tries again later;
- RESOURCE_DOES_NOT_EXIST -> NotFoundError; RESOURCE_ALREADY_EXISTS -> ConflictError;
- any other refusal -> RemoteError with MLflow's message.

`mlflow` is imported on first use only (a slow import), never when MLflow is disabled.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nba_mcp_deploy.errors import ConflictError, DeployError, NotFoundError, RemoteError, UnavailableError
from nba_mcp_deploy.mlflow_sync.importing import import_mlflow
from nba_mcp_deploy.mlflow_sync.probe import check_tracking_server, is_remote
from nba_mcp_deploy.stores.migrations import MIGRATION_LOCK

_UNREACHABLE = (
    "Max retries exceeded",
    "Connection refused",
    "Failed to establish a new connection",
    "Read timed out",
    "Connection aborted",
    "RemoteDisconnected",
    "database is locked",
    "TEMPORARILY_UNAVAILABLE",
)

# One thread at a time sends sys.stdout to stderr (see finish_run).
_STDOUT_LOCK = threading.Lock()

# MLflow's limits per log_batch request.
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_PARAM_VALUE = 6000


class MlflowGateway:
    """MLflow at `tracking_uri` (a server, or an embedded `sqlite:///` database), experiment
    `experiment_name` for runs. Thread-safe: one client shared by the relay and tool calls."""

    def __init__(self, tracking_uri: str, *, experiment_name: str, registry_uri: str | None = None) -> None:
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri or tracking_uri
        self.experiment_name = experiment_name
        self._lock = threading.Lock()
        self._client: Any = None
        self._experiment_id: str | None = None

    # -- the client ---------------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The `MlflowClient` (imports mlflow the first time). Use it inside `calls`."""
        with self._lock:
            if self._client is None:
                with self.calls("connecting"):
                    mlflow = import_mlflow()
                    embedded = not is_remote(self.tracking_uri)
                    # Opening an embedded database migrates it with Alembic: never beside our migrations.
                    with MIGRATION_LOCK if embedded else contextlib.nullcontext():
                        client = mlflow.MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)
                        if embedded:
                            client.search_experiments(max_results=1)
                            client.search_registered_models(max_results=1)
                    self._client = client
            return self._client

    def check(self) -> None:
        """UnavailableError unless MLflow answers now (a quick probe; see probe.py)."""
        check_tracking_server(self.tracking_uri)

    @contextmanager
    def calls(self, what: str) -> Iterator[None]:
        """Run MLflow calls, translating whatever they raise into our errors (see the module doc)."""
        try:
            yield
        except DeployError:
            raise
        except Exception as exc:
            raise translate(exc, what, self.tracking_uri) from exc

    # -- shared look-ups ------------------------------------------------------------------------

    def experiment_id(self) -> str:
        """The configured experiment's id, created on first use (for an embedded database, its
        artifacts go beside the database file rather than into the working directory)."""
        if self._experiment_id is not None:
            return self._experiment_id
        client = self.client
        with self.calls(f"reading experiment {self.experiment_name!r}"):
            found = client.get_experiment_by_name(self.experiment_name)
            if found is not None:
                self._experiment_id = str(found.experiment_id)
                return self._experiment_id
            location = _embedded_artifact_location(self.tracking_uri)
            try:
                self._experiment_id = str(client.create_experiment(self.experiment_name, artifact_location=location))
            except Exception as exc:  # another process created it meanwhile
                if "RESOURCE_ALREADY_EXISTS" not in str(exc):
                    raise
                self._experiment_id = str(client.get_experiment_by_name(self.experiment_name).experiment_id)
        return self._experiment_id

    def find_runs(self, tags: Mapping[str, str], *, running_only: bool = False, limit: int = 1) -> list[Any]:
        """Runs of the experiment carrying every tag given, newest first."""
        conditions = [f"tags.`{key}` = '{value}'" for key, value in tags.items()]
        if running_only:
            conditions.append("attributes.status = 'RUNNING'")
        with self.calls("searching runs"):
            return list(
                self.client.search_runs(
                    [self.experiment_id()],
                    filter_string=" and ".join(conditions),
                    order_by=["attributes.start_time DESC"],
                    max_results=limit,
                )
            )

    def find_version(self, name: str, nba_version: str) -> Any | None:
        """The model version of registered model `name` that mirrors our `nba_version`, if any."""
        with self.calls(f"searching versions of {name}"):
            found = self.client.search_model_versions(f"name = '{name}' and tags.nba_version = '{nba_version}'")
        return found[0] if found else None

    def finish_run(self, run_id: str, at: float | None = None) -> None:
        """Mark a run FINISHED (at `at` seconds, default now).

        `MlflowClient.set_terminated` writes the run's URL to stdout, which is the MCP stdio
        channel: while it runs, stdout goes to stderr (the MCP transport writes to the buffer it
        took at start-up, so protocol messages are not affected).
        """
        end_time = None if at is None else int(at * 1000)
        with _STDOUT_LOCK, contextlib.redirect_stdout(sys.stderr), self.calls(f"finishing run {run_id}"):
            self.client.set_terminated(run_id, "FINISHED", end_time=end_time)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Mapping[str, float] | None = None,
        at: float = 0.0,
        step: int = 0,
        params: Mapping[str, str] | None = None,
    ) -> None:
        """Metrics (stamped `at`, in seconds) and params, in as many requests as MLflow's limits need."""
        import_mlflow()
        from mlflow.entities import Metric, Param

        stamp = int(at * 1000)
        metric_rows = [Metric(key, float(value), stamp, step) for key, value in (metrics or {}).items()]
        param_rows = [Param(key, value[:MAX_PARAM_VALUE]) for key, value in (params or {}).items()]
        with self.calls(f"logging to run {run_id}"):
            for start in range(0, len(metric_rows), MAX_BATCH_METRICS):
                self.client.log_batch(run_id, metrics=metric_rows[start : start + MAX_BATCH_METRICS])
            for start in range(0, len(param_rows), MAX_BATCH_PARAMS):
                self.client.log_batch(run_id, params=param_rows[start : start + MAX_BATCH_PARAMS])


def translate(exc: BaseException, what: str, tracking_uri: str) -> DeployError:
    """Our error for what MLflow (or the HTTP stack under it) raised while doing `what`."""
    text = f"{type(exc).__name__}: {exc}"
    code = str(getattr(exc, "error_code", "") or "")
    if code == "TEMPORARILY_UNAVAILABLE" or any(marker in text for marker in _UNREACHABLE):
        return UnavailableError(f"MLflow at {tracking_uri} did not answer while {what}: {_short(text)}")
    if code == "RESOURCE_DOES_NOT_EXIST":
        return NotFoundError(f"MLflow has no such resource ({what}): {_short(str(exc))}")
    if code == "RESOURCE_ALREADY_EXISTS":
        return ConflictError(f"MLflow already has it ({what}): {_short(str(exc))}")
    return RemoteError(f"MLflow refused {what}: {_short(text)}")


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _embedded_artifact_location(tracking_uri: str) -> str | None:
    """`<db dir>/mlartifacts` for a `sqlite:///path` tracking URI; None (the server decides) otherwise."""
    prefix = "sqlite:///"
    if not tracking_uri.startswith(prefix):
        return None
    database = Path(tracking_uri[len(prefix) :])
    if not database.is_absolute():
        database = database.absolute()
    return (database.parent / "mlartifacts").as_uri()
