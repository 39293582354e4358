"""MLflow models: local model directories and `models:/` / `runs:/` URIs (mlflow imported lazily).

A model with the sklearn flavor and an all-numeric column signature is loaded natively and
called with a NumPy matrix: our input check enforces the signature (every column present,
no extras, numeric), and skipping pyfunc's per-call DataFrame schema enforcement makes a one-row
prediction several times faster. Every other flavor is served through `mlflow.pyfunc`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.errors import ModelLoadError, NotFoundError, RemoteError
from nba_mcp_deploy.loading.pickle_files import load_pickle_file
from nba_mcp_deploy.loading.skops_files import load_skops_file
from nba_mcp_deploy.mlflow_sync.importing import import_mlflow
from nba_mcp_deploy.mlflow_sync.uris import parse_models_uri
from nba_mcp_deploy.serving.estimator import EstimatorModel
from nba_mcp_deploy.serving.ports import LoadedModel, ModelOutput

if TYPE_CHECKING:
    from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway

NUMERIC_SIGNATURE_TYPES = frozenset({"double", "float", "long", "integer", "boolean"})
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,256}")
DOWNLOADED_FILE_LOADERS: dict[str, Callable[..., EstimatorModel]] = {
    ".skops": load_skops_file,
    ".joblib": load_pickle_file,
    ".pkl": load_pickle_file,
    ".pickle": load_pickle_file,
}
# MLflow column types as NumPy dtype names (for protocol metadata; values are fed as float64).
SIGNATURE_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32", "boolean": "bool"}


class PyfuncModel:
    """An MLflow pyfunc model, called with a DataFrame whose columns follow the signature."""

    def __init__(
        self,
        model: Any,
        *,
        feature_names: Sequence[str],
        warmup: npt.NDArray[np.float64] | None,
        source: str,
        input_dtypes: Mapping[str, str] | None = None,
    ) -> None:
        self._model = model
        self._names = list(feature_names)
        self._warmup = warmup
        self._source = source
        self._input_dtypes = dict(input_dtypes or {})

    @property
    def feature_names(self) -> Sequence[str]:
        return self._names

    @property
    def is_classifier(self) -> bool:
        return False

    @property
    def accepts_missing(self) -> bool:
        return True

    @property
    def source(self) -> str:
        return self._source

    @property
    def input_dtypes(self) -> Mapping[str, str]:
        """NumPy dtype names of the signature's columns."""
        return self._input_dtypes

    def warmup_input(self) -> npt.NDArray[np.float64]:
        if self._warmup is not None:
            return self._warmup[:1]
        return np.zeros((1, len(self._names)), dtype=np.float64)

    def infer(self, features: npt.NDArray[np.float64]) -> ModelOutput:
        import pandas as pd

        result = self._model.predict(pd.DataFrame(features, columns=self._names))
        if hasattr(result, "to_numpy"):
            result = result.to_numpy()
        predictions = np.asarray(result)
        if predictions.ndim == 2 and predictions.shape[1] == 1:
            predictions = predictions[:, 0]
        return ModelOutput(predictions)


def load_local_mlflow_model(path: Path, *, source: str) -> EstimatorModel | PyfuncModel:
    """Load an MLflow model directory (already confined to a trusted root by the router)."""
    try:
        import_mlflow()
        from mlflow.models import Model

        meta = Model.load(str(path))
    except Exception as exc:
        raise ModelLoadError(f"{source}: unreadable MLmodel ({type(exc).__name__}: {exc})") from exc
    names, all_numeric = _signature_columns(meta.signature)
    dtypes = _signature_dtypes(meta.signature) if names else {}
    warmup = _input_example(meta, path, names)
    try:
        if "sklearn" in meta.flavors and all_numeric:
            import mlflow.sklearn

            estimator = mlflow.sklearn.load_model(str(path))
            return EstimatorModel(estimator, source=source, feature_names=names, warmup=warmup, input_dtypes=dtypes)
        if not names:
            raise ModelLoadError(
                f"{source}: the MLflow model has no column-based signature; log it with a signature "
                "(mlflow.models.infer_signature) so inputs can be checked"
            )
        import mlflow.pyfunc

        return PyfuncModel(
            mlflow.pyfunc.load_model(str(path)), feature_names=names, warmup=warmup, source=source, input_dtypes=dtypes
        )
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"{source}: MLflow could not load it ({type(exc).__name__}: {exc})") from exc


def load_remote_mlflow_model(
    uri: str, *, cache_dir: Path, tracking_uri: str | None, registry_uri: str | None
) -> LoadedModel:
    """Resolve `models:/...` or `runs:/...` through the tracking server, download, then load.

    `models:/` URIs are resolved with a client of the configured server: MLflow's own resolver
    reads the process-wide registry URI instead (a local `mlflow.db`), whatever is passed to
    `download_artifacts`. A server that does not answer fails at once, not after MLflow's
    minutes of retries. A downloaded `.skops` / `.joblib` file (what the registry mirror uploads
    for such models) loads like a local one: it comes from the trusted tracking server.
    """
    if not tracking_uri:
        raise ModelLoadError(
            f"cannot resolve {uri!r}: no MLflow tracking server is configured (set MLFLOW_TRACKING_URI)"
        )
    from nba_mcp_deploy.mlflow_sync.gateway import MlflowGateway

    gateway = MlflowGateway(tracking_uri, experiment_name="", registry_uri=registry_uri)
    gateway.check()
    destination = cache_dir / "mlflow" / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', uri)[:80]}-{uuid.uuid4().hex[:8]}"
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with gateway.calls(f"downloading {uri}"):
            import_mlflow()
            from mlflow.artifacts import download_artifacts

            local = download_artifacts(
                artifact_uri=_download_uri(uri, gateway), dst_path=str(destination), tracking_uri=tracking_uri
            )
    except NotFoundError as exc:
        raise NotFoundError(f"{uri!r} was not found on the MLflow server at {tracking_uri}: {exc}") from exc
    except RemoteError as exc:
        if "not found" in str(exc).lower() or "Failed to download" in str(exc):
            raise NotFoundError(f"{uri!r} was not found on the MLflow server at {tracking_uri}: {exc}") from exc
        raise ModelLoadError(f"could not download {uri!r} from {tracking_uri}: {exc}") from exc
    local_path = Path(local)
    if local_path.is_file() and local_path.suffix.lower() in DOWNLOADED_FILE_LOADERS:
        return DOWNLOADED_FILE_LOADERS[local_path.suffix.lower()](local_path, source=uri)
    if not (local_path / "MLmodel").is_file():
        raise ModelLoadError(
            f"{uri!r} does not point at an MLflow model (no MLmodel file in what was downloaded) "
            f"nor at a {'/'.join(DOWNLOADED_FILE_LOADERS)} file"
        )
    return load_local_mlflow_model(local_path, source=uri)


def _download_uri(uri: str, gateway: MlflowGateway) -> str:
    """Where the artifacts of `uri` are, resolved through the configured server.

    `runs:/<run>/<name>/...` is a model MLflow 3 logged from that run (its artifacts live
    outside the run's), else the run's own artifacts; `models:/` names a registered version or
    a logged model.
    """
    if uri.startswith("runs:/"):
        return _run_download_uri(uri, gateway)
    parsed = parse_models_uri(uri)
    if parsed is None:
        raise ModelLoadError(f"{uri!r} is not a models:/ or runs:/ URI")
    if parsed.stage is not None:
        raise ModelLoadError(
            f"{uri!r}: MLflow stages ({parsed.stage}) are deprecated; use an alias, "
            f"e.g. models:/{parsed.name}@production"
        )
    client = gateway.client
    with gateway.calls(f"resolving {uri}"):
        if not parsed.names_registered_version:  # models:/<logged model id>
            base = str(client.get_logged_model(parsed.name).artifact_location)
        else:
            number = parsed.number or str(client.get_model_version_by_alias(parsed.name, parsed.alias).version)
            base = str(client.get_model_version_download_uri(parsed.name, number))
    return base.rstrip("/") + (f"/{parsed.path}" if parsed.path else "")


def _run_download_uri(uri: str, gateway: MlflowGateway) -> str:
    run_id, _, path = uri[len("runs:/") :].partition("/")
    name, _, rest = path.partition("/")
    client = gateway.client
    with gateway.calls(f"resolving {uri}"):
        run = client.get_run(run_id)
        logged = (
            client.search_logged_models(experiment_ids=[run.info.experiment_id], filter_string=f"name = '{name}'")
            if _PLAIN_NAME.fullmatch(name)
            else []
        )
    model = next((m for m in logged if m.source_run_id == run_id), None)
    base = str(model.artifact_location) if model is not None else str(run.info.artifact_uri)
    tail = rest if model is not None else path
    return base.rstrip("/") + (f"/{tail}" if tail else "")


def _signature_columns(signature: Any) -> tuple[list[str] | None, bool]:
    """Column names of a column-based signature and whether they are all numeric."""
    if signature is None or signature.inputs is None or signature.inputs.is_tensor_spec():
        return None, True
    names = signature.inputs.input_names()
    if not names or any(not isinstance(n, str) for n in names):
        return None, True
    types = [getattr(t, "name", str(t)) for t in signature.inputs.input_types()]
    return [str(n) for n in names], all(t in NUMERIC_SIGNATURE_TYPES for t in types)


def _signature_dtypes(signature: Any) -> dict[str, str]:
    """Column name -> NumPy dtype name for the numeric columns of a column-based signature."""
    names = signature.inputs.input_names()
    types = [getattr(t, "name", str(t)) for t in signature.inputs.input_types()]
    return {str(n): SIGNATURE_DTYPES[t] for n, t in zip(names, types, strict=True) if t in SIGNATURE_DTYPES}


def _input_example(meta: Any, path: Path, names: list[str] | None) -> npt.NDArray[np.float64] | None:
    """The logged input example as a float matrix in signature order, if there is a usable one."""
    if names is None:
        return None
    try:
        example = meta.load_input_example(str(path))
    except Exception:
        return None
    if example is None:
        return None
    try:
        if hasattr(example, "columns"):
            return np.asarray(example[names].to_numpy(dtype=np.float64))[:1]
        if isinstance(example, dict):
            return np.asarray([[float(example[n]) for n in names]], dtype=np.float64)
    except Exception:
        return None
    return None
