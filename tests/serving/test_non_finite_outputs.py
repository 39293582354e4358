"""Never a NaN or an infinity served as an answer: a model that produces one from valid inputs fails
the call, and the failure is counted by the breaker and the metrics like any model error."""

from __future__ import annotations

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import CircuitOpenError, ModelExecutionError
from nba_mcp_deploy.services import build_services
from nba_mcp_deploy.serving.breaker import BreakerState
from nba_mcp_deploy.serving.ports import ModelOutput
from tests.conftest import NbaModels
from tests.inference_models import nan_pipeline, negative_records
from tests.serving.doubles import SumModel, rec


@pytest.fixture
def manager(config: DeploymentConfig, clock: ManualClock):
    services = build_services(config.replace(breaker_minimum_calls=5, breaker_window_size=10), clock=clock)
    yield services.manager
    services.close()


def test_a_pipeline_that_makes_nan_inside_fails_and_opens_the_breaker(manager, nba: NbaModels) -> None:
    pipeline = nan_pipeline(nba.trained)
    manager.deploy_model("nan", "v1.0", model_instance=pipeline)
    manager.deploy_model("nan-ok", "v1.0", model_instance=pipeline)
    fine = [{name: abs(value) for name, value in nba.records(1)[0].items()}]
    expected = pipeline.predict_proba(np.array([list(fine[0].values())]))
    np.testing.assert_allclose(manager.predict("nan-ok", fine).probabilities, expected)
    bad = negative_records(nba.trained)
    for _ in range(5):
        with pytest.raises(ModelExecutionError, match="Input X contains NaN"):
            manager.predict("nan", bad)
    with pytest.raises(CircuitOpenError):
        manager.predict("nan", fine)
    version = manager.routing("nan").versions["v1.0"]
    assert version.breaker.state is BreakerState.OPEN
    assert version.metrics.errors == 5


def test_an_infinite_prediction_of_a_model_that_is_not_scikit_learn_is_an_error_too(manager) -> None:
    manager.deploy_model("sum", "v1.0", model_instance=SumModel())
    assert manager.predict("sum", [rec(1.0, 2.0)]).predictions == [3.0]
    with pytest.raises(ModelExecutionError, match=r"non-finite predictions .* rows \[1\]"):
        manager.predict("sum", [rec(1.0, 2.0), rec(1e308, 1e308)])  # finite inputs, an overflowing sum
    assert manager.routing("sum").versions["v1.0"].metrics.errors == 1


def test_under_batching_the_whole_batch_fails_with_the_model_error(manager) -> None:
    manager.deploy_model("sum", "v1.0", model_instance=SumModel())
    manager.set_batching("sum", max_batch_size=4, max_wait_ms=0)
    with pytest.raises(ModelExecutionError, match="non-finite predictions"):
        manager.predict("sum", [rec(1e308, 1e308)])
    assert manager.predict("sum", [rec(1.0, 1.0)]).predictions == [2.0]


def test_the_output_check_names_probabilities_and_rows_and_passes_labels_of_any_type() -> None:
    ModelOutput(np.array(["win", "loss"]), np.array([[0.2, 0.8], [0.6, 0.4]]), ["loss", "win"]).check(2)
    broken = ModelOutput(np.array([1, 0]), np.array([[0.2, 0.8], [np.nan, np.nan]]), [0, 1])
    with pytest.raises(ValueError, match=r"non-finite probabilities .* rows \[1\]"):
        broken.check(2)
    with pytest.raises(ValueError, match="3 predictions for 2 rows"):
        ModelOutput(np.zeros(3)).check(2)
