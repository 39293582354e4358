"""The Week 1 decorators on real parts: a real local webhook receiver, the process's operation
metrics as `health_check` and the HTTP server's `/metrics` report them, the caller's role."""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import httpx2
import pytest

from nba_mcp_deploy import ModelServingManager, Permission, handle_errors, require_permission, track_metric
from nba_mcp_deploy.access import Caller, Role, acting_as
from nba_mcp_deploy.api.error_alerts import operation_error_alerts
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ConflictError, PermissionDeniedError
from nba_mcp_deploy.host import ServiceHost
from nba_mcp_deploy.logs import JsonLineFormatter
from nba_mcp_deploy.operations import process_operations
from nba_mcp_deploy.server.app import build_server
from nba_mcp_deploy.server.http_app import build_http_app
from tests.notify.test_webhook import Receiver, _wait

_names = itertools.count(1)


def unique(prefix: str) -> str:
    """A metric name no other test records (the process's metrics outlive each test)."""
    return f"{prefix}.{next(_names)}"


@pytest.fixture
def receiver(clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    received = Receiver()
    monkeypatch.setenv("NBA_MCP_ALERT_WEBHOOK_URL", received.url)
    yield received
    received.close()


def failing_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    formatter = JsonLineFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.getMessage() == "operation failed"]


def test_handle_errors_logs_one_line_alerts_once_per_cool_down_and_reraises(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    @handle_errors(reraise=True, notify=True)
    def load_box_scores(model_id: str, season: int) -> None:
        raise RuntimeError(f"the feed for {season} is down")

    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            with pytest.raises(RuntimeError, match="feed for 2022"):
                load_box_scores("nba_model", 2022)
    lines = failing_lines(caplog)
    assert len(lines) == 3 and all(line["level"] == "ERROR" for line in lines)
    assert (lines[0]["operation"], lines[0]["error_type"], lines[0]["model_id"]) == (
        "test_handle_errors_logs_one_line_alerts_once_per_cool_down_and_reraises.<locals>.load_box_scores",
        "RuntimeError",
        "nba_model",
    )
    assert "Traceback" in str(lines[0]["exception"])  # a crash's line carries its traceback
    assert _wait(lambda: len(receiver.bodies) >= 1)
    (body,) = receiver.bodies  # the repeats fall inside the cool-down: one notification
    assert body["alert"]["severity"] == "critical" and body["alert"]["kind"] == "operation_error"
    assert body["text"].startswith("[CRITICAL] nba_model: ")
    (alert,) = [a for a in operation_error_alerts().list() if a.subject.endswith("load_box_scores")]
    assert alert.occurrences == 3


def test_without_reraise_the_default_is_returned_and_a_refusal_is_a_warning(
    clean_environment: Path, caplog: pytest.LogCaptureFixture
) -> None:
    @handle_errors(reraise=False, default=[])
    def deployments() -> list[str]:
        raise ConflictError("nba_model v1.0 is already deployed")

    with caplog.at_level(logging.WARNING):
        assert deployments() == []
    (line,) = failing_lines(caplog)
    assert (line["level"], line["error_type"]) == ("WARNING", "ConflictError")
    assert "exception" not in line  # our refusals need no traceback


@pytest.mark.anyio
async def test_the_decorators_work_on_coroutines(receiver: Receiver) -> None:
    name = unique("async.fetch")

    @handle_errors(reraise=False, notify=True, default="fallback")
    @track_metric(name)
    @require_permission(Permission.READ)
    async def fetch(model_id: str) -> str:
        if model_id == "bad":
            raise ValueError("no such game")
        return model_id

    assert await fetch("nba_model") == "nba_model"
    assert await fetch("bad") == "fallback"
    stats = process_operations().snapshot()[name]
    assert (stats.count, stats.errors) == (2, 1)
    assert _wait(lambda: bool(receiver.bodies))
    assert receiver.bodies[0]["alert"]["model_id"] == "bad"


def test_track_metric_shows_in_every_health_check_of_the_process(clean_environment: Path, game_models) -> None:
    name = unique("model_serving.predict")
    manager = ModelServingManager()
    manager.deploy_model("nba_model", "v1.0", model_instance=game_models.forest)

    @track_metric(name)
    def predict(inputs: list[dict[str, float]]) -> object:
        return manager.predict("nba_model", inputs)

    predict(game_models.records(2))
    with pytest.raises(Exception, match="expects numeric values"):
        predict([{"home_ppg": "high"}])
    stats = manager.health_check().operations[name]
    assert (stats.count, stats.errors) == (2, 1)
    assert stats.max_ms >= stats.mean_ms > 0 and "InvalidInputError" in (stats.last_error or "")
    manager.close()


@pytest.mark.anyio
async def test_track_metric_shows_in_the_servers_metrics(tmp_path: Path) -> None:
    """The command's server (a ServiceHost) reports the process's operations at /metrics."""
    name = unique("nightly.retrain")

    @track_metric(name)
    def retrain() -> None:
        pass

    host = ServiceHost(DeploymentConfig(registry_dir=tmp_path / "registry"))
    app = build_http_app(build_server(host), host, bind_host="127.0.0.1")
    for _ in range(3):
        retrain()
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        metrics = (await client.get("/metrics")).text
    host.close()
    assert f'nba_mcp_tool_calls_total{{tool="{name}"}} 3.0' in metrics
    assert f'nba_mcp_tool_errors_total{{tool="{name}"}} 0.0' in metrics


def test_require_permission_checks_the_current_callers_role() -> None:
    @require_permission(Permission.WRITE)
    def promote_model(model_id: str) -> str:
        return model_id

    assert promote_model("nba_model") == "nba_model"  # a script is the local admin
    with acting_as(Caller("scout", Role.VIEWER)), pytest.raises(PermissionDeniedError) as refused:
        promote_model("nba_model")
    assert str(refused.value).startswith("promote_model needs the WRITE permission; caller 'scout' has role 'viewer'")
    with acting_as(Caller("ops", Role.OPERATOR)):
        assert promote_model("nba_model") == "nba_model"
    with pytest.raises(TypeError, match="takes a Permission"):
        require_permission("promote_model")  # type: ignore[arg-type]
