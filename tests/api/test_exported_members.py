"""The package's public names are pinned (like httpx's tests/test_exported_members.py): adding or
removing one is a decision this test makes visible."""

from __future__ import annotations

import pytest

import nba_mcp_deploy

EXPORTED = {
    # the seed document's Python API
    "ModelServingManager",
    "ModelRegistry",
    "ModelStage",
    "ModelMonitor",
    "DriftMethod",
    "AlertSeverity",
    "Permission",
    "require_permission",
    "handle_errors",
    "track_metric",
    "ModelVersionManager",
    # what goes with it: gates for ModelVersionManager, the config, the errors' base
    "MetricGate",
    "DeploymentConfig",
    "DeployError",
    "__version__",
}


def test_the_exported_names_are_exactly_these() -> None:
    assert set(nba_mcp_deploy.__all__) == EXPORTED
    assert sorted(nba_mcp_deploy.__all__) == nba_mcp_deploy.__all__


@pytest.mark.parametrize("name", sorted(EXPORTED))
def test_each_name_resolves_and_says_where_it_lives(name: str) -> None:
    value = getattr(nba_mcp_deploy, name)
    assert name in dir(nba_mcp_deploy)
    if name != "__version__":
        assert value.__module__.startswith("nba_mcp_deploy.")


def test_the_seed_names_are_the_core_objects_where_the_core_has_them() -> None:
    from nba_mcp_deploy.access.permissions import Permission
    from nba_mcp_deploy.monitoring.alerts import AlertSeverity
    from nba_mcp_deploy.monitoring.methods import DriftMethod
    from nba_mcp_deploy.registry.stages import Stage

    assert nba_mcp_deploy.ModelStage is Stage
    assert (nba_mcp_deploy.DriftMethod, nba_mcp_deploy.AlertSeverity) == (DriftMethod, AlertSeverity)
    assert nba_mcp_deploy.Permission is Permission
    assert {m.name for m in nba_mcp_deploy.ModelStage} == {"DEVELOPMENT", "STAGING", "PRODUCTION", "ARCHIVED"}
    assert {"KS_TEST", "PSI", "KL_DIVERGENCE"} <= {m.name for m in nba_mcp_deploy.DriftMethod}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'ModelServer'"):
        _ = nba_mcp_deploy.ModelServer  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        from nba_mcp_deploy import ModelServer  # type: ignore[attr-defined]  # noqa: F401
