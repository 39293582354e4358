"""Monitoring through the MCP client: served traffic is observed, outcomes give quality, drift
checks match scipy on the very rows the model served, and bad arguments are refused."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
from mcp.client import Client
from scipy import stats
from sklearn.metrics import accuracy_score, roc_auc_score

from nba_mcp_deploy import nba_models
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels
from tests.server.conftest import Agent

pytestmark = pytest.mark.anyio

M = "next_season"


@pytest.fixture
async def agent(config: DeploymentConfig, tmp_path: Path, nba: NbaModels) -> AsyncIterator[Agent]:
    data_root = tmp_path / "data"
    data_root.mkdir()
    services = build_services(config.replace(data_roots=(data_root,)))
    server = build_server(ServiceHost.ready_made(services))
    async with Client(server) as client:
        yield Agent(client, services)
    services.close()


def training_frame(raptor_csv: Path):
    """Early training seasons (2014-2016), the reference the served 2020-2021 rows are compared with."""
    dataset = nba_models.next_season_dataset(nba_models.load_raptor(raptor_csv))
    return dataset[dataset["season"] <= 2016]


async def serve_holdout(agent: Agent, nba: NbaModels) -> tuple[list[str], np.ndarray]:
    await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri=str(nba.skops_file))
    ids: list[str] = []
    records = nba.records(len(nba.trained.holdout))
    for start in range(0, len(records), 100):
        answer = await agent.ok("predict", model_id=M, inputs=records[start : start + 100])
        ids.extend(answer["prediction_ids"])
    return ids, nba.trained.holdout["positive_next"].to_numpy()


async def test_served_predictions_with_outcomes_give_the_true_quality(agent: Agent, nba: NbaModels) -> None:
    ids, labels = await serve_holdout(agent, nba)
    result = await agent.ok("log_actuals", model_id=M, actuals={i: float(y) for i, y in zip(ids, labels, strict=True)})
    assert result["matched"] == len(ids) and result["unknown_ids"] == []
    performance = await agent.ok("get_performance", model_id=M)
    frame = nba.trained.holdout[FEATURES]
    scores = nba.trained.boosting.predict_proba(frame)[:, 1]
    assert performance["task"] == "classification"
    assert performance["count"] == len(ids) and performance["with_actuals"] == len(ids)
    assert performance["accuracy"] == pytest.approx(accuracy_score(labels, nba.trained.boosting.predict(frame)))
    assert performance["auc"] == pytest.approx(roc_auc_score(labels, scores), rel=1e-9)
    assert performance["error_rate"] == 0.0 and performance["latency_p95_ms"] > 0
    unknown = await agent.ok("log_actuals", model_id=M, actuals={"nope-1": 1.0})
    assert unknown["matched"] == 0 and unknown["unknown_ids"] == ["nope-1"]


async def test_drift_on_served_traffic_equals_scipy(agent: Agent, nba: NbaModels, tmp_path: Path, raptor_csv: Path):
    reference = training_frame(raptor_csv)
    reference[FEATURES].to_csv(tmp_path / "data" / "train_2014_2016.csv", index=False)
    summary = await agent.ok("set_reference_data", model_id=M, path="train_2014_2016.csv")
    assert summary["rows"] == len(reference) and summary["numeric_features"] == FEATURES
    await serve_holdout(agent, nba)
    progress: list[tuple[float, float | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total))

    result = await agent.client.call_tool(
        "detect_drift", {"model_id": M, "method": "ks", "include_plot": True}, progress_callback=on_progress
    )
    assert not result.is_error, result.content[0].text
    drift = result.structured_content
    served = nba.trained.holdout[FEATURES]
    for entry in drift["results"]:
        expected = stats.ks_2samp(reference[entry["feature"]], served[entry["feature"]])
        assert entry["score"] == pytest.approx(expected.statistic, abs=1e-12)
        assert entry["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert entry["is_drift"] == (expected.pvalue < 0.05)
    assert drift["current_rows"] == len(served) and drift["reading"].startswith("KS")
    image = result.content[1]
    assert image.type == "image" and base64.b64decode(image.data)[:8] == b"\x89PNG\r\n\x1a\n"
    assert progress and progress[-1] == (len(FEATURES), len(FEATURES))
    alerts = await agent.ok("get_alerts", model_id=M)
    if drift["drifted_features"]:
        assert alerts["alerts"][0]["kind"] == "feature_drift"
        assert alerts["alerts"][0]["severity"] in ("warning", "critical")
    psi = await agent.ok("detect_drift", model_id=M, method="psi", current_records=nba.records(300))
    assert psi["method"] == "psi" and psi["current_rows"] == 300 and "0.25" in psi["reading"]


async def test_prediction_drift(agent: Agent, nba: NbaModels, raptor_csv: Path) -> None:
    reference = training_frame(raptor_csv)
    records = [
        {**{f: float(v) for f, v in zip(FEATURES, row, strict=True)}, "prediction": float(p)}
        for row, p in zip(
            reference[FEATURES].to_numpy(), nba.trained.boosting.predict_proba(reference[FEATURES])[:, 1], strict=True
        )
    ]
    summary = await agent.ok("set_reference_data", model_id=M, records=records)
    assert summary["has_predictions"]
    await serve_holdout(agent, nba)
    drift = await agent.ok("detect_drift", model_id=M, kind="predictions")
    served_scores = nba.trained.boosting.predict_proba(nba.trained.holdout[FEATURES])[:, 1]
    expected = stats.ks_2samp([r["prediction"] for r in records], served_scores)
    assert drift["results"][0]["feature"] == "prediction"
    assert drift["results"][0]["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)


BAD_CALLS = [
    ("set_reference_data", {"model_id": M}, ["records", "exactly one of records and path"]),
    ("set_reference_data", {"model_id": M, "path": "../../etc/passwd"}, ["permission denied", "outside"]),
    ("set_reference_data", {"model_id": M, "path": "missing.csv"}, ["not found", "missing.csv"]),
    ("set_reference_data", {"model_id": M, "records": []}, ["records", "at least 1 item"]),
    ("detect_drift", {"model_id": M, "method": "magic"}, ["method", "magic", "'ks'"]),
    ("detect_drift", {"model_id": M, "window_hours": -1}, ["window_hours", "greater than 0"]),
    ("detect_drift", {"model_id": M}, ["conflict", "no reference data", "set_reference_data"]),
    ("detect_drift", {"model_id": M, "current_records": [{"a": 1}], "current_path": "x.csv"}, ["at most one"]),
    ("log_actuals", {"model_id": "ghost", "actuals": {"p": 1}}, ["not found", "ghost"]),
    ("log_actuals", {"model_id": M, "actuals": {"p": "won"}}, ["actuals.p", "won", "valid number"]),
    ("get_performance", {"model_id": M, "window_hours": 0}, ["window_hours", "greater than 0"]),
    ("get_alerts", {"severity": "loud"}, ["severity", "loud", "'info'"]),
]


@pytest.mark.parametrize(
    ("tool", "arguments", "fragments"), BAD_CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)]
)
async def test_bad_monitoring_arguments(agent: Agent, nba: NbaModels, tool: str, arguments: dict, fragments: list[str]):
    await agent.ok("deploy_model", model_id=M, version="v1.0", model_uri=str(nba.skops_file))
    await agent.ok("predict", model_id=M, inputs=nba.records(2))
    text = await agent.error(tool, **arguments)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert (await agent.ok("predict", model_id=M, inputs=nba.records(1)))["version"] == "v1.0"
