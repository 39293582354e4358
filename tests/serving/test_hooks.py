"""The manager's generic hooks: control listeners hear every control change in order (never a
prediction, never a restore), and health sources join health_check without touching readiness."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import build_services
from nba_mcp_deploy.serving.control import ControlChange, ControlKind
from nba_mcp_deploy.serving.manager import ModelServingManager
from nba_mcp_deploy.serving.results import DependencyHealth, HealthStatus
from tests.conftest import NbaModels
from tests.serving.doubles import SumModel, rec

MODEL = "next_season"


class Recorder:
    def __init__(self) -> None:
        self.changes: list[ControlChange] = []

    def on_control_change(self, change: ControlChange) -> None:
        self.changes.append(change)


class Broken:
    def on_control_change(self, change: ControlChange) -> None:
        raise RuntimeError("listener bug")


class Dependency:
    def __init__(self, status: HealthStatus, reasons: list[str], backlog: int = 0) -> None:
        self.report = DependencyHealth("mirror", status, reasons, backlog)

    def health(self) -> DependencyHealth:
        return self.report


@pytest.fixture
def manager(tmp_path) -> ModelServingManager:
    return ModelServingManager(DeploymentConfig(registry_dir=tmp_path), clock=ManualClock())


def test_every_control_change_is_told_in_order_with_the_routing_after_it(manager):
    recorder = Recorder()
    manager.add_control_listener(Broken())  # a failing listener neither blocks the change nor the others
    manager.add_control_listener(recorder)
    manager.deploy_model(MODEL, "v1.0", SumModel())
    manager.deploy_model(MODEL, "v2.0", SumModel(1.0), set_active=False)
    manager.predict(MODEL, [rec()])
    manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.9, 0.1])
    manager.clear_ab_test(MODEL)
    manager.setup_shadow(MODEL, "v2.0", 0.5)
    manager.clear_shadow(MODEL)
    manager.set_active_version(MODEL, "v2.0")
    manager.undeploy(MODEL, "v1.0")
    kinds = [(c.kind, c.version) for c in recorder.changes]
    assert kinds == [
        (ControlKind.DEPLOYED, "v1.0"),
        (ControlKind.DEPLOYED, "v2.0"),
        (ControlKind.AB_TEST_SET, None),
        (ControlKind.AB_TEST_CLEARED, None),
        (ControlKind.SHADOW_SET, "v2.0"),
        (ControlKind.SHADOW_CLEARED, None),
        (ControlKind.ACTIVATED, "v2.0"),
        (ControlKind.UNDEPLOYED, "v1.0"),
    ]
    ab = recorder.changes[2].routing
    assert ab["split"] == {"versions": ["v1.0", "v2.0"], "weights": [0.9, 0.1], "sticky": False}
    assert recorder.changes[4].routing["shadow"] == {"version": "v2.0", "fraction": 0.5}
    assert [v["version"] for v in recorder.changes[-1].routing["versions"]] == ["v2.0"]
    assert {c.model_id for c in recorder.changes} == {MODEL}


def test_restoring_saved_deployments_is_not_a_control_change(config: DeploymentConfig, nba: NbaModels):
    first = build_services(config)
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    first.close()
    second = build_services(config, restore=False)
    recorder = Recorder()
    second.manager.add_control_listener(recorder)
    assert second.manager.restore(second.store.load_deployments()) == []
    assert second.manager.is_deployed(MODEL, "v1.0")
    assert recorder.changes == []
    second.manager.set_active_version(MODEL, "v1.0")
    assert [c.kind for c in recorder.changes] == [ControlKind.ACTIVATED]
    second.close()


def test_a_degraded_dependency_degrades_the_status_but_not_readiness(manager):
    manager.deploy_model(MODEL, "v1.0", SumModel())
    manager.add_health_source(Dependency(HealthStatus.HEALTHY, []))
    assert manager.health_check().status is HealthStatus.HEALTHY
    manager.add_health_source(Dependency(HealthStatus.DEGRADED, ["not answering; 3 changes wait"], backlog=3))
    report = manager.health_check()
    assert report.status is HealthStatus.DEGRADED
    assert report.ready
    assert report.reasons == ["mirror: not answering; 3 changes wait"]
    assert [d.backlog for d in report.dependencies] == [0, 3]


def test_dependencies_are_reported_when_no_model_is_deployed(manager):
    manager.add_health_source(Dependency(HealthStatus.DEGRADED, ["down"]))
    report = manager.health_check()
    assert report.status is HealthStatus.DEGRADED
    assert report.reasons == ["no models deployed", "mirror: down"]
