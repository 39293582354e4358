"""Which loader a model URI needs, and the trusted-root rule for everything local.

Supported sources:
- `models:/name/N`, `models:/name@alias`, `runs:/run_id/path` (resolved through the configured
  MLflow tracking server, downloaded into the registry directory's model cache);
- a local MLflow model directory (holds an `MLmodel` file), `file://` prefix optional;
- a `.skops` file;
- a `.joblib` / `.pkl` / `.pickle` file.

Local files and directories load only from the trusted model roots: loading a pickle runs the
code inside it, and MLflow sklearn models are pickles too. Remote MLflow URIs come from the
tracking server the operator configured, which is trusted the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nba_mcp_deploy.errors import ModelLoadError
from nba_mcp_deploy.paths import confine
from nba_mcp_deploy.serving.ports import LoadedModel

MLFLOW_REMOTE_SCHEMES = ("models:/", "runs:/")
PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
SUPPORTED = (
    "an MLflow URI (models:/name/N, models:/name@alias, runs:/run_id/path), a local MLflow model "
    "directory, a .skops file, or a .joblib/.pkl file, inside the trusted model roots"
)
WHY_TRUSTED = "model files (loading a pickle, also inside an MLflow model directory, runs its code)"


class ModelLoaderRouter:
    """Implements the serving `ModelLoader` port by dispatching on the URI's form."""

    def __init__(
        self,
        *,
        model_roots: Sequence[Path],
        cache_dir: Path,
        tracking_uri: str | None,
        registry_uri: str | None = None,
    ) -> None:
        self._roots = tuple(model_roots)
        self._cache_dir = cache_dir
        self._tracking_uri = tracking_uri
        self._registry_uri = registry_uri

    def load(self, model_uri: str) -> LoadedModel:
        if not isinstance(model_uri, str) or not model_uri.strip():
            raise ModelLoadError(f"model_uri must be {SUPPORTED}")
        uri = model_uri.strip()
        if uri.startswith(MLFLOW_REMOTE_SCHEMES):
            from nba_mcp_deploy.loading.mlflow_models import load_remote_mlflow_model

            return load_remote_mlflow_model(
                uri,
                cache_dir=self._cache_dir,
                tracking_uri=self._tracking_uri,
                registry_uri=self._registry_uri,
            )
        if uri.startswith("file://"):
            uri = uri[len("file://") :]
        elif "://" in uri or uri.startswith(("models:", "runs:")):
            raise ModelLoadError(f"unsupported model_uri {model_uri!r}: expected {SUPPORTED}")
        path = confine(uri, self._roots, what=WHY_TRUSTED, field="model_uri")
        if path.is_dir():
            if not (path / "MLmodel").is_file():
                raise ModelLoadError(f"{model_uri!r} is a directory without an MLmodel file; expected {SUPPORTED}")
            from nba_mcp_deploy.loading.mlflow_models import load_local_mlflow_model

            return load_local_mlflow_model(path, source=model_uri)
        suffix = path.suffix.lower()
        if suffix == ".skops":
            from nba_mcp_deploy.loading.skops_files import load_skops_file

            return load_skops_file(path, source=model_uri)
        if suffix in PICKLE_SUFFIXES:
            from nba_mcp_deploy.loading.pickle_files import load_pickle_file

            return load_pickle_file(path, source=model_uri)
        raise ModelLoadError(f"cannot tell how to load {model_uri!r} (suffix {suffix or 'none'}); expected {SUPPORTED}")
