"""Real services (`build_services`) on a per-test registry, a ManualClock, and tiny models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import Services, build_services
from tests.experiments.doubles import Coin

M = "win_probability"


@pytest.fixture
def experiment_config(tmp_path: Path) -> DeploymentConfig:
    return DeploymentConfig(
        registry_dir=tmp_path / "registry",
        model_roots=(tmp_path,),
        routing_seed=11,
        registry_sync_every_commit=False,
        canary_check_interval_sec=0.05,
    )


@pytest.fixture
def services(experiment_config: DeploymentConfig, clock: ManualClock) -> Iterator[Services]:
    built = build_services(experiment_config, clock=clock)
    yield built
    built.close()


@pytest.fixture
def two_coins(services: Services) -> tuple[Coin, Coin]:
    return install_coins(services)


def install_coins(services: Services) -> tuple[Coin, Coin]:
    """v1.0 (skill 0.6) active and registered in production; v2.0 (skill 0.7) a staging standby."""
    stable, candidate = Coin(0.6), Coin(0.7)
    services.manager.deploy_model(M, "v1.0", model_instance=stable)
    services.manager.deploy_model(M, "v2.0", model_instance=candidate, set_active=False)
    services.registry.register_model(M, "v1.0", stage="staging")
    services.registry.promote_model(M, "v1.0", "production")
    services.registry.register_model(M, "v2.0", stage="staging")
    return stable, candidate
