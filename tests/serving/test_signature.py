"""What a deployed version says it takes and returns: typed by an MLflow signature when there is
one, float64 features otherwise, outputs read off its warm-up answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression, LogisticRegression

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.loading.mlflow_models import load_local_mlflow_model
from nba_mcp_deploy.services import build_services
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.signature import TensorInfo
from tests.conftest import NbaModels


def test_an_nba_classifier_from_a_skops_file(config: DeploymentConfig, nba: NbaModels) -> None:
    manager = ModelServingManager(config)
    manager.deploy_model("m", "v1.0", model_instance=nba.trained.boosting)
    signature = manager.routing("m").versions["v1.0"].signature
    assert signature is not None
    assert signature.inputs[:2] == (TensorInfo("poss", "float64", (-1,)), TensorInfo("mp", "float64", (-1,)))
    assert signature.outputs == (TensorInfo("predict", "int64", (-1,)), TensorInfo("predict_proba", "float64", (-1, 2)))
    assert signature.classes == (0, 1)


def test_an_mlflow_signature_types_the_inputs(config: DeploymentConfig, tmp_path: Path) -> None:
    import mlflow.sklearn
    from mlflow.models import infer_signature

    frame = pd.DataFrame({"games": np.arange(40, dtype=np.int64), "minutes": np.linspace(0, 3000, 40)})
    target = (frame["minutes"] > 1500).astype(int)
    model = LogisticRegression().fit(frame, target)
    path = tmp_path / "typed"
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(frame, model.predict(frame)))
    loaded = load_local_mlflow_model(path, source="typed")
    assert dict(loaded.input_dtypes) == {"games": "int64", "minutes": "float64"}
    services = build_services(config.replace(model_roots=(tmp_path,)))
    try:
        services.manager.deploy_model("typed", "v1.0", model_uri=str(path))
        signature = services.manager.routing("typed").versions["v1.0"].signature
    finally:
        services.close()
    assert signature is not None
    assert signature.inputs == (TensorInfo("games", "int64", (-1,)), TensorInfo("minutes", "float64", (-1,)))


def test_a_regressor_has_only_predict(config: DeploymentConfig) -> None:
    manager = ModelServingManager(config)
    features = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 2})
    model = LinearRegression().fit(features, np.linspace(0, 1, 20))
    manager.deploy_model("r", "v1.0", model_instance=model)
    signature = manager.routing("r").versions["v1.0"].signature
    assert signature is not None and signature.output_names() == ["predict"] and signature.classes is None
