"""Two replicas' worth of services in one process, sharing one store (sqlite directory or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.services import Services, build_services
from tests.postgres import url_for

POLL_SEC = 0.5


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, config: DeploymentConfig, tmp_path) -> Iterator[tuple[Services, Services]]:
    config = config.replace(
        control_poll_interval_sec=POLL_SEC, traffic_flush_interval_sec=0.2, canary_check_interval_sec=0.3
    )
    if request.param == "postgresql":
        request.getfixturevalue("postgres")
        config = config.replace(registry_url=url_for(tmp_path / "shared"))
    first = build_services(config.replace(replica_id="first"))
    second = build_services(config.replace(replica_id="second"))
    try:
        yield first, second
    finally:
        first.close()
        second.close()
