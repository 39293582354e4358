"""The dashboard snapshot over real services (serving, registry, monitoring, experiments, audit):
each panel shows what the services hold, the audit log only to admins, JSON-ready throughout."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from nba_mcp_deploy.access import AuditLog, Caller, Role
from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.dashboard.summary import summary_text
from nba_mcp_deploy.errors import CircuitOpenError, InvalidInputError, ModelExecutionError, NotFoundError
from nba_mcp_deploy.server.dashboard.collect import build_snapshot
from nba_mcp_deploy.services import Services, build_services
from tests.serving.doubles import SumModel

ADMIN = Caller("alice", Role.ADMIN)
VIEWER = Caller("grafana", Role.VIEWER)


@pytest.fixture
def services(tmp_path: Path, clock: ManualClock) -> Iterator[Services]:
    config = DeploymentConfig(
        registry_dir=tmp_path / "registry",
        breaker_window_size=10,
        breaker_minimum_calls=5,
        breaker_open_wait_sec=60,
        health_check_interval_sec=3600,  # the timer never fires: the test takes the points
        registry_sync_every_commit=False,
        routing_seed=3,
    )
    built = build_services(config, clock=clock)
    yield built
    built.close()


@pytest.fixture
def flaky(services: Services, clock: ManualClock) -> int:
    """m: v1.0 (registered, staging) and v2.0 in a 70/30 split; v2.0 failing until its breaker opened
    and refused one call. Returns the number of failed calls."""
    stable, broken = SumModel(0), SumModel(100)
    manager = services.manager
    services.registry.register_model("m", "v1.0", stage="staging")
    manager.deploy_model("m", "v1.0", model_instance=stable)
    manager.deploy_model("m", "v2.0", model_instance=broken, set_active=False)
    manager.setup_ab_test("m", ["v1.0", "v2.0"], [0.7, 0.3])
    for _ in range(20):
        manager.predict("m", [{"a": 1, "b": 2}])
    services.history.sample(manager.health_check())
    clock.advance(5)
    broken.failing = True
    failures = 0
    while True:
        try:
            manager.predict("m", [{"a": 1, "b": 2}], version="v2.0")
        except ModelExecutionError:
            failures += 1
        except CircuitOpenError:
            return failures


def drift_check(services: Services) -> None:
    rng = np.random.default_rng(1)
    reference = {"a": rng.normal(0, 1, 500), "b": rng.normal(0, 1, 500)}
    monitor = services.monitoring.monitor("m")
    monitor.set_reference_data([{"a": a, "b": b} for a, b in zip(reference["a"], reference["b"], strict=True)])
    current = [{"a": a + 1.5, "b": b} for a, b in zip(reference["a"], rng.normal(0, 1, 500), strict=True)]
    monitor.detect_feature_drift(current)


def test_every_panel_shows_what_the_services_hold(services: Services, flaky: int, clock: ManualClock) -> None:
    drift_check(services)
    AuditLog(services.registry.store, clock).record(ADMIN, "setup_ab_test", {"model_id": "m", "weights": [0.7, 0.3]})
    clock.advance(5)
    snapshot = build_snapshot(services, services.history, caller=ADMIN)

    assert snapshot.status == "degraded" and snapshot.generated_at == clock.now()
    (model,) = snapshot.models
    assert model.model_id == "m" and model.active_version == "v1.0"
    assert any("breaker open" in reason for reason in model.reasons)
    v1, v2 = model.versions
    assert (v1.version, v1.stage, v1.active, v1.breaker.state) == ("v1.0", "staging", True, "closed")
    assert (v2.version, v2.stage, v2.active, v2.breaker.state) == ("v2.0", None, False, "open")
    assert v2.breaker.retry_at == pytest.approx(clock.now() + v2.breaker.retry_in_sec)  # type: ignore[operator]
    assert v2.breaker.retry_in_sec is not None and 0 < v2.breaker.retry_in_sec <= 60
    assert v1.requests + v2.requests == 20 + flaky and v2.errors == flaky >= 1 and v2.rejected == 1

    traffic = model.traffic
    assert traffic.mode == "ab" and not traffic.sticky
    assert [(s.version, s.weight) for s in traffic.shares] == [("v1.0", 0.7), ("v2.0", 0.3)]
    assert [s.requests for s in traffic.shares] == [v1.requests, v2.requests]
    assert traffic.shares[1].breaker_state == "open"

    first, last = v2.series[0], v2.series[-1]
    assert len(v2.series) == 2 and last.at - first.at == 10
    assert last.requests == flaky and last.error_rate == 1.0  # errors since the previous point
    assert last.p95_ms is not None

    drift = model.drift
    assert drift is not None and drift.method == "ks" and drift.drifted_features == ("a",)
    assert drift.checked_features == 2 and [f.feature for f in drift.features] == ["a", "b"]
    (histogram,) = drift.histograms
    assert histogram.feature == "a" and histogram.kind == "numeric" and histogram.threshold == 0.05
    assert histogram.score == drift.features[0].score and histogram.p_value is not None
    assert len(histogram.edges) == len(histogram.reference) + 1 == len(histogram.current) + 1
    assert sum(histogram.reference) == pytest.approx(1) and sum(histogram.current) == pytest.approx(1)

    assert snapshot.alerts.warning + snapshot.alerts.critical == len(snapshot.alerts.open) >= 1
    assert snapshot.alerts.open[0].kind == "feature_drift"
    assert snapshot.audit.available and [e.tool for e in snapshot.audit.entries] == ["setup_ab_test"]
    assert snapshot.audit.entries[0].caller == "alice"

    json.dumps(dataclasses.asdict(snapshot))  # JSON-ready: no enums, arrays or NaN objects


def test_the_audit_log_is_for_admins_only(services: Services, flaky: int, clock: ManualClock) -> None:
    AuditLog(services.registry.store, clock).record(ADMIN, "deploy_model", {"model_id": "m"})
    snapshot = build_snapshot(services, services.history, caller=VIEWER)
    assert not snapshot.audit.available and snapshot.audit.entries == ()
    assert snapshot.audit.note is not None and "ADMIN" in snapshot.audit.note


def test_one_model_or_a_clear_error(services: Services, flaky: int) -> None:
    services.manager.deploy_model("other", "v1.0", model_instance=SumModel())
    assert [m.model_id for m in build_snapshot(services, services.history, caller=ADMIN).models] == ["m", "other"]
    only = build_snapshot(services, services.history, "other", caller=ADMIN)
    assert only.model_filter == "other" and [m.model_id for m in only.models] == ["other"]
    assert only.models[0].traffic.mode == "single" and only.models[0].drift is None
    with pytest.raises(NotFoundError, match="nope"):
        build_snapshot(services, services.history, "nope", caller=ADMIN)
    with pytest.raises(InvalidInputError, match="model_id"):
        build_snapshot(services, services.history, "../x", caller=ADMIN)


def test_a_running_canary_is_the_traffic_mode(services: Services) -> None:
    manager = services.manager
    manager.deploy_model("c", "v1.0", model_instance=SumModel())
    manager.deploy_model("c", "v2.0", model_instance=SumModel(1), set_active=False)
    services.experiments.start_canary("c", "v2.0", steps=[0.1, 0.5, 1.0], min_requests_per_step=1000)
    (model,) = build_snapshot(services, services.history, "c", caller=ADMIN).models
    assert model.traffic.mode == "canary"
    assert [(s.version, s.weight) for s in model.traffic.shares] == [("v1.0", 0.9), ("v2.0", 0.1)]
    assert model.canary is not None and model.canary.phase == "running"
    assert (model.canary.candidate_version, model.canary.step_index, model.canary.steps) == ("v2.0", 0, (0.1, 0.5, 1.0))


def test_an_empty_server(services: Services) -> None:
    snapshot = build_snapshot(services, services.history, caller=ADMIN)
    assert snapshot.models == () and snapshot.status == "healthy"
    assert "no models deployed" in summary_text(snapshot)


def test_the_text_summary_names_what_matters(services: Services, flaky: int) -> None:
    drift_check(services)
    services.manager.setup_shadow("m", "v2.0", 0.5)
    text = summary_text(build_snapshot(services, services.history, caller=ADMIN))
    assert text.startswith("Deployment dashboard (1 model(s)): degraded")
    assert "traffic (A/B): v1.0 70%" in text and "v2.0 30%" in text and "shadow v2.0 mirrors 50%" in text
    assert "v2.0 [ab_variant]: breaker open (retry in" in text and "v1.0 [ab_variant, staging]" in text
    assert "drift (ks, threshold 0.05): 1/2 features drifted" in text
    assert "open alerts: 1 critical, 0 warning" in text and "[critical] m: 1/2 features drifted" in text
