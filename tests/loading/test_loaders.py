"""Model sources: real MLflow directories, skops and joblib files; the trusted-root rule."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from nba_mcp_deploy.errors import ModelLoadError, NotFoundError, PermissionDeniedError
from nba_mcp_deploy.loading.mlflow_models import PyfuncModel
from nba_mcp_deploy.loading.router import ModelLoaderRouter
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.serving.estimator import EstimatorModel
from tests.conftest import NbaModels


@pytest.fixture
def loader(nba: NbaModels, tmp_path: Path) -> ModelLoaderRouter:
    return ModelLoaderRouter(model_roots=[nba.root], cache_dir=tmp_path / "cache", tracking_uri=None)


def test_mlflow_sklearn_directory_loads_natively_and_matches_pyfunc(loader: ModelLoaderRouter, nba: NbaModels) -> None:
    import mlflow.pyfunc

    model = loader.load(str(nba.mlflow_dir))
    assert isinstance(model, EstimatorModel)  # the fast path, not pyfunc
    assert list(model.feature_names) == FEATURES  # from the MLflow signature
    frame = nba.trained.holdout[FEATURES].iloc[:50]
    ours = model.infer(frame.to_numpy())
    theirs = mlflow.pyfunc.load_model(str(nba.mlflow_dir)).predict(frame)
    np.testing.assert_array_equal(ours.predictions, theirs)
    assert model.warmup_input().shape == (1, len(FEATURES))


def test_pyfunc_model_from_code(loader: ModelLoaderRouter, nba: NbaModels) -> None:
    model = loader.load(str(nba.strict_dir))
    assert isinstance(model, PyfuncModel)
    frame = nba.trained.holdout[FEATURES].iloc[:10]
    np.testing.assert_allclose(
        model.infer(frame.to_numpy()).predictions, nba.trained.logistic.predict_proba(frame)[:, 1]
    )


def test_skops_and_joblib_files(loader: ModelLoaderRouter, nba: NbaModels) -> None:
    frame = nba.trained.holdout[FEATURES].iloc[:10]
    skops_model = loader.load("gb.skops")  # relative to the first root
    np.testing.assert_allclose(
        skops_model.infer(frame.to_numpy()).probabilities, nba.trained.boosting.predict_proba(frame)
    )
    joblib_model = loader.load(f"file://{nba.joblib_file}")
    np.testing.assert_allclose(
        joblib_model.infer(frame.to_numpy()).probabilities, nba.trained.logistic.predict_proba(frame)
    )


def test_skops_refuses_types_outside_sklearn_numpy_scipy(loader: ModelLoaderRouter, nba: NbaModels) -> None:
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    path = nba.root / "sneaky.skops"
    sio.dump(FunctionTransformer(func=os.getcwd).fit(np.zeros((2, 2))), path)
    with pytest.raises(ModelLoadError, match="refusing to load types outside scikit-learn/NumPy/SciPy"):
        loader.load(str(path))


def test_pickles_outside_the_roots_are_refused_with_the_reason(loader: ModelLoaderRouter, nba: NbaModels, tmp_path):
    outside = tmp_path / "model.pkl"
    outside.write_bytes(nba.joblib_file.read_bytes())
    with pytest.raises(
        PermissionDeniedError, match=r"outside the trusted directories.*loading a pickle.*runs its code"
    ):
        loader.load(str(outside))
    with pytest.raises(PermissionDeniedError):
        loader.load("../" * 10 + str(outside))


def test_a_symlink_escaping_the_root_is_refused(loader: ModelLoaderRouter, nba: NbaModels, tmp_path) -> None:
    outside = tmp_path / "evil.joblib"
    outside.write_bytes(nba.joblib_file.read_bytes())
    link = nba.root / "innocent.joblib"
    link.symlink_to(outside)
    try:
        with pytest.raises(PermissionDeniedError, match="outside the trusted directories"):
            loader.load(str(link))
    finally:
        link.unlink()


@pytest.mark.parametrize(
    ("uri", "error", "fragment"),
    [
        ("s3://bucket/model", ModelLoadError, "unsupported model_uri"),
        ("models:/win/1", ModelLoadError, "no MLflow tracking server is configured"),
        ("runs:/abc/model", ModelLoadError, "MLFLOW_TRACKING_URI"),
        ("   ", ModelLoadError, "model_uri must be"),
        ("missing.skops", NotFoundError, "does not exist"),
        ("code", ModelLoadError, "directory without an MLmodel"),
        ("code/strict_next_season_model.py", ModelLoadError, "cannot tell how to load"),
    ],
)
def test_unusable_uris_say_what_is_supported(loader: ModelLoaderRouter, uri: str, error: type, fragment: str) -> None:
    with pytest.raises(error, match=fragment):
        loader.load(uri)
