"""ModelServingManager with real NBA models and real files: deploy, predict, traffic control, health."""

from __future__ import annotations

import numpy as np
import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import (
    CircuitOpenError,
    ConflictError,
    InvalidInputError,
    ModelExecutionError,
    ModelLoadError,
    NotFoundError,
    PermissionDeniedError,
)
from nba_mcp_deploy.nba_models import FEATURES
from nba_mcp_deploy.services import build_services
from nba_mcp_deploy.serving.breaker import BreakerState
from nba_mcp_deploy.serving.control_plane import SplitOnActivation
from nba_mcp_deploy.serving.results import HealthStatus, RoutedBy
from tests.conftest import NbaModels
from tests.serving.doubles import SumModel, rec

MODEL = "next_season"


@pytest.fixture
def services(config: DeploymentConfig, clock: ManualClock):
    built = build_services(config.replace(breaker_minimum_calls=5, breaker_window_size=10), clock=clock)
    yield built
    built.close()


@pytest.fixture
def manager(services):
    return services.manager


def test_deploy_from_every_source_and_predict_like_the_model(manager, nba: NbaModels) -> None:
    manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    manager.deploy_model(MODEL, "v2.0", model_uri=nba.mlflow_dir.name, set_active=False)  # relative to the root
    manager.deploy_model(MODEL, "v2.1", model_uri=f"file://{nba.joblib_file}", set_active=False)
    manager.deploy_model(MODEL, "v2.2", model_instance=nba.trained.logistic, set_active=False)
    records = nba.records(25)
    frame = nba.trained.holdout[FEATURES].iloc[:25]
    expected = {
        "v1.0": nba.trained.boosting.predict_proba(frame),
        "v2.0": nba.trained.logistic.predict_proba(frame),
        "v2.1": nba.trained.logistic.predict_proba(frame),
        "v2.2": nba.trained.logistic.predict_proba(frame),
    }
    for version, probabilities in expected.items():
        result = manager.predict(MODEL, records, version=version)
        assert result.version == version
        assert result.routed_by is RoutedBy.PINNED
        np.testing.assert_allclose(result.probabilities, probabilities, rtol=1e-12)
        assert result.predictions == list(np.asarray(result.classes)[np.argmax(probabilities, axis=1)])
        assert len(result.prediction_ids) == 25 and len(set(result.prediction_ids)) == 25
    default = manager.predict(MODEL, records[:1])
    assert default.version == "v1.0" and default.routed_by is RoutedBy.ACTIVE and not default.ab_test


def test_mlflow_pyfunc_model_from_code(manager, nba: NbaModels) -> None:
    info = manager.deploy_model(MODEL, "v3.0", model_uri=str(nba.strict_dir))
    assert info.versions[0].feature_names == FEATURES
    records = nba.records(5)
    result = manager.predict(MODEL, records)
    frame = nba.trained.holdout[FEATURES].iloc[:5]
    np.testing.assert_allclose(result.predictions, nba.trained.logistic.predict_proba(frame)[:, 1])
    with pytest.raises(ModelExecutionError, match=r"implausible minutes"):
        manager.predict(MODEL, [{**records[0], "mp": 9999.0}])


def test_a_failed_deploy_changes_nothing_and_says_why(manager, nba: NbaModels, tmp_path) -> None:
    manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    broken = nba.root / "broken.skops"
    broken.write_bytes(b"not a zip file")
    with pytest.raises(ModelLoadError, match=r"not a readable skops file.*v1.0 keeps serving"):
        manager.deploy_model(MODEL, "v2.0", model_uri=str(broken))
    outside = tmp_path / "elsewhere.joblib"
    outside.write_bytes(b"x")
    with pytest.raises(PermissionDeniedError, match=r"outside the trusted directories.*runs its code"):
        manager.deploy_model(MODEL, "v2.0", model_uri=str(outside))
    wrong_width = SumModel(names=("a", "b", "c"))
    wrong_width.failing = True  # cannot even answer the warm-up call
    with pytest.raises(ModelLoadError, match=r"failed its warm-up call.*v1.0 keeps serving"):
        manager.deploy_model(MODEL, "v2.0", model_instance=wrong_width)
    info = manager.get_deployment(MODEL)
    assert [v.version for v in info.versions] == ["v1.0"] and info.active_version == "v1.0"
    assert manager.predict(MODEL, nba.records(1)).version == "v1.0"


def test_deploy_argument_errors(manager) -> None:
    with pytest.raises(InvalidInputError, match=r"model_id"):
        manager.deploy_model("../etc", "v1.0", model_instance=SumModel())
    with pytest.raises(InvalidInputError, match=r"version"):
        manager.deploy_model("m", "1.0", model_instance=SumModel())
    with pytest.raises(InvalidInputError, match=r"exactly one of model_uri and model_instance"):
        manager.deploy_model("m", "v1.0")
    manager.deploy_model("m", "v1.0", model_instance=SumModel())
    with pytest.raises(ConflictError, match=r"already deployed"):
        manager.deploy_model("m", "v1.0", model_instance=SumModel())


def test_blue_green_switch_and_undeploy_rules(manager) -> None:
    manager.deploy_model("m", "v1.0", model_instance=SumModel(0))
    with pytest.raises(ConflictError, match=r"only deployed version"):
        manager.undeploy("m", "v1.0")
    info = manager.deploy_model("m", "v2.0", model_instance=SumModel(100), set_active=False)
    assert info.active_version == "v1.0"
    assert manager.predict("m", [rec()]).predictions == [3.0]
    info = manager.set_active_version("m", "v2.0")
    assert info.active_version == "v2.0" and info.previous_active == ["v1.0"]
    assert manager.predict("m", [rec()]).predictions == [103.0]
    with pytest.raises(ConflictError, match=r"active version.*set_active_version"):
        manager.undeploy("m", "v2.0")
    manager.setup_ab_test("m", ["v1.0", "v2.0"], [0.5, 0.5])
    with pytest.raises(ConflictError, match=r"A/B test"):
        manager.undeploy("m", "v1.0")
    manager.clear_ab_test("m")
    info = manager.undeploy("m", "v1.0")
    assert [v.version for v in info.versions] == ["v2.0"] and info.previous_active == []
    with pytest.raises(NotFoundError, match=r"no deployed version 'v1.0'.*\['v2.0'\]"):
        manager.predict("m", [rec()], version="v1.0")
    with pytest.raises(NotFoundError, match=r"not deployed"):
        manager.predict("nope", [rec()])


def test_ab_split_and_sticky_keys(manager) -> None:
    manager.deploy_model("m", "v1.0", model_instance=SumModel(0))
    manager.deploy_model("m", "v2.0", model_instance=SumModel(100), set_active=False)
    with pytest.raises(InvalidInputError, match=r"not deployed: \['v3.0'\]"):
        manager.setup_ab_test("m", ["v1.0", "v3.0"], [0.5, 0.5])
    manager.setup_ab_test("m", ["v1.0", "v2.0"], [0.75, 0.25])
    results = [manager.predict("m", [rec()]) for _ in range(4000)]
    share = sum(r.version == "v2.0" for r in results) / 4000
    assert abs(share - 0.25) < 4 * (0.25 * 0.75 / 4000) ** 0.5
    assert all(r.ab_test and r.routed_by is RoutedBy.AB_RANDOM for r in results)
    for key in ("u1", "u2", "u3", "u4", "u5"):
        versions = {manager.predict("m", [rec()], request_key=key).version for _ in range(20)}
        assert len(versions) == 1
    assert manager.predict("m", [rec()], request_key="u1").routed_by is RoutedBy.AB_STICKY
    manager.clear_ab_test("m")
    assert {manager.predict("m", [rec()]).version for _ in range(50)} == {"v1.0"}


def test_activating_keeps_clears_or_ends_a_settled_split_in_the_same_revision(services, manager) -> None:
    store = services.registry.store
    for version in ("v1.0", "v2.0", "v3.0"):
        manager.deploy_model("m", version, model_instance=SumModel(0), set_active=version == "v1.0")

    manager.setup_ab_test("m", ["v1.0", "v2.0"], [0.5, 0.5])
    manager.set_active_version("m", "v2.0")  # KEEP, the default: the split goes on deciding
    assert manager.routing("m").split is not None
    manager.set_active_version("m", "v1.0", split=SplitOnActivation.CLEAR_IF_SETTLED)  # still deciding
    assert manager.routing("m").split is not None

    manager.setup_ab_test("m", ["v1.0", "v2.0", "v3.0"], [0.0, 1.0, 0.0])  # settled on v2.0
    before = store.deployment_revisions()["m"]
    info = manager.set_active_version("m", "v2.0", split=SplitOnActivation.CLEAR_IF_SETTLED)
    assert (info.active_version, info.ab_test, info.previous_active[0]) == ("v2.0", None, "v1.0")
    assert store.deployment_revisions()["m"] == before + 1

    manager.setup_ab_test("m", ["v2.0", "v3.0"], [0.9, 0.1])
    info = manager.set_active_version("m", "v3.0", split=SplitOnActivation.CLEAR)
    assert (info.active_version, info.ab_test) == ("v3.0", None)
    assert store.load_deployments()["m"]["split"] is None


def test_shadow_compares_without_touching_live_answers(manager) -> None:
    live, twin, broken = SumModel(0), SumModel(0), SumModel(0)
    manager.deploy_model("m", "v1.0", model_instance=live)
    manager.deploy_model("m", "v1.1", model_instance=twin, set_active=False)
    manager.deploy_model("m", "v1.2", model_instance=broken, set_active=False)
    with pytest.raises(InvalidInputError, match=r"active version"):
        manager.setup_shadow("m", "v1.0")
    with pytest.raises(InvalidInputError, match=r"fraction"):
        manager.setup_shadow("m", "v1.1", fraction=0)
    manager.setup_shadow("m", "v1.1", fraction=1.0)
    for i in range(100):
        assert manager.predict("m", [rec(i, 1)]).version == "v1.0"
    assert manager.wait_for_shadow()
    shadow = _version_health(manager, "v1.1").shadow
    assert shadow.mirrored_requests == 100 and shadow.compared_rows == 100
    assert shadow.agreement_rate == 1.0 and shadow.mean_abs_difference == 0.0
    broken.failing = True
    manager.setup_shadow("m", "v1.2", fraction=0.5)
    answers = [manager.predict("m", [rec(1, 1)]).predictions for _ in range(400)]
    assert answers == [[2.0]] * 400  # the failing shadow never touched the live answer
    assert manager.wait_for_shadow()
    shadow = _version_health(manager, "v1.2").shadow
    assert shadow.errors == shadow.mirrored_requests
    assert 140 < shadow.mirrored_requests + shadow.dropped_requests < 260  # ~50% of 400
    assert "model backend unavailable" in shadow.last_error


def test_shadow_difference_is_measured(manager) -> None:
    manager.deploy_model("m", "v1.0", model_instance=SumModel(0))
    manager.deploy_model("m", "v2.0", model_instance=SumModel(0.5), set_active=False)
    manager.setup_shadow("m", "v2.0")
    for i in range(20):
        manager.predict("m", [rec(10 + i, 0)])  # +0.5 on 10..29 is 1.7%-5% off: disagree
    for _ in range(20):
        manager.predict("m", [rec(100, 0)])  # +0.5 on 100 is 0.5% off: agree (tolerance 1%)
    manager.wait_for_shadow()
    shadow = _version_health(manager, "v2.0").shadow
    assert shadow.mean_abs_difference == pytest.approx(0.5)
    assert shadow.agreement_rate == pytest.approx(0.5)


def _version_health(manager, version: str):
    return next(v for v in manager.health_check("m").models[0].versions if v.version == version)


def test_breaker_opens_fails_over_and_recovers(manager, clock: ManualClock) -> None:
    stable, candidate = SumModel(0), SumModel(100)
    manager.deploy_model("m", "v1.0", model_instance=stable)
    manager.deploy_model("m", "v2.0", model_instance=candidate)  # now active; v1.0 is the rollback target
    candidate.failing = True
    for _ in range(5):  # minimum calls = 5, all failing
        with pytest.raises(ModelExecutionError, match=r"v2.0 failed.*backend unavailable"):
            manager.predict("m", [rec()])
    health = manager.health_check("m")
    assert health.status is HealthStatus.DEGRADED
    assert any("failing over to v1.0" in r for r in health.reasons)
    result = manager.predict("m", [rec()])
    assert result.version == "v1.0" and result.failover_from == "v2.0"
    assert "circuit breaker open for v2.0" in result.failover_reason
    with pytest.raises(CircuitOpenError, match=r"v2.0 is open.*in 30.0s") as caught:
        manager.predict("m", [rec()], version="v2.0")
    assert caught.value.retry_in_sec == pytest.approx(30.0)
    calls_before = candidate.calls
    clock.advance(30)
    candidate.failing = False
    for _ in range(5):  # the half-open trial calls reach v2.0 again
        assert manager.predict("m", [rec()]).version == "v2.0"
    assert candidate.calls == calls_before + 5
    breaker = _version_health(manager, "v2.0").breaker
    assert breaker.state is BreakerState.CLOSED and breaker.times_opened == 1


def test_breaker_with_no_healthy_alternative_fails_fast(manager) -> None:
    only = SumModel(0)
    manager.deploy_model("m", "v1.0", model_instance=only)
    only.failing = True
    for _ in range(5):
        with pytest.raises(ModelExecutionError):
            manager.predict("m", [rec()])
    calls = only.calls
    with pytest.raises(CircuitOpenError, match=r"m v1.0"):
        manager.predict("m", [rec()])
    assert only.calls == calls  # refused without calling the model
    assert manager.health_check("m").status is HealthStatus.UNHEALTHY
    info = manager.reset_circuit_breaker("m", "v1.0")
    assert info.active_version == "v1.0"
    only.failing = False
    assert manager.predict("m", [rec()]).version == "v1.0"


def test_ab_variant_with_open_breaker_fails_over_to_the_other_variant(manager) -> None:
    a, b = SumModel(0), SumModel(100)
    manager.deploy_model("m", "v1.0", model_instance=a)
    manager.deploy_model("m", "v2.0", model_instance=b, set_active=False)
    manager.setup_ab_test("m", ["v1.0", "v2.0"], [0.5, 0.5])
    b.failing = True
    errors = 0
    for _ in range(200):
        try:
            manager.predict("m", [rec()])
        except ModelExecutionError:
            errors += 1
    assert errors == 5  # exactly the minimum calls, then the breaker takes v2.0 out
    served = [manager.predict("m", [rec()]) for _ in range(100)]
    assert {r.version for r in served} == {"v1.0"}
    assert any(r.failover_from == "v2.0" for r in served)


def test_invalid_inputs_do_not_count_against_the_breaker(manager) -> None:
    manager.deploy_model("m", "v1.0", model_instance=SumModel())
    for _ in range(20):
        with pytest.raises(InvalidInputError):
            manager.predict("m", [{"a": "x", "b": 1}])
    breaker = _version_health(manager, "v1.0").breaker
    assert breaker.state is BreakerState.CLOSED and breaker.calls_in_window == 0


def test_health_reports_counts_latency_and_thresholds(config: DeploymentConfig, clock: ManualClock) -> None:
    services = build_services(config, clock=clock)  # default breaker: window 100, minimum 20 calls
    manager = services.manager
    model = SumModel()
    manager.deploy_model("m", "v1.0", model_instance=model)
    for _ in range(30):
        manager.predict("m", [rec(), rec()])
    model.failing = True
    with pytest.raises(ModelExecutionError):
        manager.predict("m", [rec()])
    report = manager.health_check()
    version = report.models[0].versions[0]
    assert version.metrics.requests == 31 and version.metrics.errors == 1 and version.metrics.served_rows == 60
    assert version.metrics.latency.count == 31
    assert 0 < version.metrics.latency.p50_ms <= version.metrics.latency.p95_ms <= version.metrics.latency.p99_ms
    assert version.metrics.recent_error_rate == pytest.approx(1 / 31)
    assert report.status is HealthStatus.HEALTHY  # 3.2% < 5% error-rate threshold
    model.failing = True
    with pytest.raises(ModelExecutionError):
        manager.predict("m", [rec()])
    report = manager.health_check("m")
    assert report.status is HealthStatus.DEGRADED  # 2/32 = 6.25% > 5%
    assert any("error rate 6.2%" in r for r in report.reasons)
    assert report.models[0].versions[0].breaker.state is BreakerState.CLOSED  # 6.25% < 10% failure threshold
    services.close()


def test_health_with_nothing_deployed(manager) -> None:
    report = manager.health_check()
    assert report.status is HealthStatus.HEALTHY and report.ready and report.reasons == ["no models deployed"]
    with pytest.raises(NotFoundError):
        manager.health_check("m")


def test_deployments_survive_a_restart_through_the_registry_store(
    config: DeploymentConfig, clock, nba: NbaModels
) -> None:
    first = build_services(config, clock=clock)
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    first.manager.deploy_model(MODEL, "v2.0", model_uri=str(nba.mlflow_dir), set_active=False)
    first.manager.deploy_model(MODEL, "v2.1", model_uri=str(nba.joblib_file), set_active=False)
    first.manager.setup_ab_test(MODEL, ["v1.0", "v2.0"], [0.9, 0.1], sticky=True)
    first.manager.setup_shadow(MODEL, "v2.1", 0.5)
    first.manager.deploy_model("in_memory", "v1.0", model_instance=SumModel())
    assert not first.manager.get_deployment("in_memory").restorable
    before = first.manager.get_deployment(MODEL)
    keys = [first.manager.predict(MODEL, nba.records(1), request_key=f"k{i}").version for i in range(30)]
    first.close()

    second = build_services(config, clock=clock)  # a new process would do exactly this
    assert second.manager.restore_problems == ["in_memory v1.0: deployed from memory, cannot be restored"]
    after = second.manager.get_deployment(MODEL)
    assert after.active_version == before.active_version == "v1.0"
    assert after.ab_test == before.ab_test
    assert after.shadow == before.shadow
    assert [v.version for v in after.versions] == ["v1.0", "v2.0", "v2.1"]
    assert keys == [second.manager.predict(MODEL, nba.records(1), request_key=f"k{i}").version for i in range(30)]
    health = second.manager.health_check()
    assert any("in_memory v1.0: deployed from memory" in r for r in health.reasons)
    second.close()


def test_a_failed_restore_keeps_the_saved_state_for_the_next_start(
    config: DeploymentConfig, clock, nba: NbaModels
) -> None:
    movable = nba.root / "movable.skops"
    movable.write_bytes(nba.skops_file.read_bytes())
    first = build_services(config, clock=clock)
    first.manager.deploy_model(MODEL, "v1.0", model_uri=str(nba.skops_file))
    first.manager.deploy_model(MODEL, "v2.0", model_uri=str(movable))
    first.close()
    hidden = movable.with_suffix(".hidden")
    movable.rename(hidden)
    try:
        second = build_services(config, clock=clock)
        assert len(second.manager.restore_problems) == 1
        assert "v2.0" in second.manager.restore_problems[0]
        assert second.manager.get_deployment(MODEL).active_version == "v1.0"  # the rest still serves
        second.close()
    finally:
        hidden.rename(movable)
    third = build_services(config, clock=clock)  # the file is back: everything returns
    assert third.manager.restore_problems == []
    assert third.manager.get_deployment(MODEL).active_version == "v2.0"
    third.close()
