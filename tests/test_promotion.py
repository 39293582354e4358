"""Registry stages drive serving: promotion deploys and activates, rollback re-activates."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import ModelLoadError
from nba_mcp_deploy.services import build_services
from tests.conftest import NbaModels

M = "next_season"


@pytest.fixture
def services(config: DeploymentConfig):
    built = build_services(config)
    yield built
    built.close()


def test_promoting_to_production_deploys_and_activates(services, nba: NbaModels) -> None:
    registry, manager = services.registry, services.manager
    registry.register_model(M, "v1.0", framework="sklearn", algorithm="gb", model_uri=str(nba.skops_file))
    registry.register_model(M, "v2.0", framework="sklearn", algorithm="logistic", model_uri=str(nba.mlflow_dir))
    assert not manager.is_deployed(M, "v1.0")
    registry.promote_model(M, "v1.0", "staging")
    assert not manager.is_deployed(M, "v1.0")  # staging does not serve
    registry.promote_model(M, "v1.0", "production")
    assert manager.get_deployment(M).active_version == "v1.0"
    assert manager.predict(M, nba.records(1)).version == "v1.0"
    registry.promote_model(M, "v2.0", "staging")
    result = registry.promote_model(M, "v2.0", "production")
    assert result.replaced is not None and result.replaced.version == "v1.0"
    assert manager.get_deployment(M).active_version == "v2.0"
    assert registry.get_model(M, "v1.0").stage.value == "archived"
    assert manager.is_deployed(M, "v1.0")  # kept as a standby for rollback
    registry.rollback_model(M)
    assert registry.get_production_model(M).version == "v1.0"
    assert manager.get_deployment(M).active_version == "v1.0"
    assert manager.predict(M, nba.records(1)).version == "v1.0"


def test_a_promotion_whose_model_cannot_load_is_refused(services, nba: NbaModels) -> None:
    registry, manager = services.registry, services.manager
    broken = nba.root / "broken_for_promotion.skops"
    broken.write_bytes(b"garbage")
    registry.register_model(M, "v1.0", model_uri=str(nba.skops_file), stage="staging")
    registry.promote_model(M, "v1.0", "production")
    registry.register_model(M, "v2.0", model_uri=str(broken), stage="staging")
    with pytest.raises(ModelLoadError, match=r"v1.0 keeps serving"):
        registry.promote_model(M, "v2.0", "production")
    assert registry.get_model(M, "v2.0").stage.value == "staging"
    assert registry.get_production_model(M).version == "v1.0"
    assert manager.get_deployment(M).active_version == "v1.0"


def test_auto_deploy_off_promotes_in_the_registry_only(config: DeploymentConfig, nba: NbaModels) -> None:
    services = build_services(config.replace(auto_deploy_on_promote=False))
    services.registry.register_model(M, "v1.0", model_uri=str(nba.skops_file), stage="staging")
    services.registry.promote_model(M, "v1.0", "production")
    assert services.registry.get_production_model(M).version == "v1.0"
    assert not services.manager.is_deployed(M, "v1.0")
    services.close()


def test_a_promotion_is_one_routing_revision_that_ends_a_settled_split(services, nba: NbaModels) -> None:
    registry, manager, store = services.registry, services.manager, services.registry.store
    registry.register_model(M, "v1.0", model_uri=str(nba.skops_file), stage="staging")
    registry.register_model(M, "v2.0", model_uri=str(nba.mlflow_dir), stage="staging")
    registry.promote_model(M, "v1.0", "production")
    manager.deploy_model(M, "v2.0", model_uri=str(nba.mlflow_dir), set_active=False)
    manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.0, 1.0], sticky=True)  # a ramp-up that reached v2.0
    before = store.deployment_revisions()[M]

    registry.promote_model(M, "v2.0", "production")

    assert store.deployment_revisions()[M] == before + 1  # readers never see v2.0 active beside the split
    saved = store.load_deployments()[M]
    assert (saved["active"], saved["split"], saved["previous_active"]) == ("v2.0", None, ["v1.0"])
    assert manager.get_deployment(M).ab_test is None

    manager.setup_ab_test(M, ["v1.0", "v2.0"], [0.5, 0.5])  # a split still deciding traffic
    before = store.deployment_revisions()[M]
    registry.rollback_model(M)
    assert store.deployment_revisions()[M] == before + 1
    deployment = manager.get_deployment(M)
    assert deployment.active_version == "v1.0"
    assert deployment.ab_test is not None and deployment.ab_test.weights == [0.5, 0.5]  # it goes on
