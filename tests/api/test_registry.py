"""`ModelRegistry` (the Python API's): one registry directory shared by objects and processes,
mock mode, the seed's direct moves to production, statistics read by key, permissions."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nba_mcp_deploy import ModelRegistry, ModelStage
from nba_mcp_deploy.access import Caller, Role, acting_as
from nba_mcp_deploy.api.assembly import ServicesOwner
from nba_mcp_deploy.errors import InvalidInputError, PermissionDeniedError
from tests.conftest import subprocess_env

OPERATOR = Caller("ops", Role.OPERATOR)


def registry_in(closing: list[ServicesOwner], *args: object, **keywords: object) -> ModelRegistry:
    registry = ModelRegistry(*args, **keywords)  # type: ignore[arg-type]
    closing.append(registry)
    return registry


def test_a_second_registry_on_the_directory_sees_the_first_ones_writes(clean_environment: Path, closing) -> None:
    first = registry_in(closing, registry_dir="shared")
    second = registry_in(closing, registry_dir=clean_environment / "shared")
    first.register_model("nba_model", "v1.0", metrics={"accuracy": 0.81})
    first.promote_model("nba_model", "v1.0", ModelStage.STAGING)
    assert second.get_model("nba_model").stage is ModelStage.STAGING
    second.promote_model("nba_model", "v1.0", ModelStage.PRODUCTION)
    assert first.get_statistics()["production_count"] == 1


CHILD = """
import sys
from nba_mcp_deploy import ModelRegistry, ModelStage
with ModelRegistry(registry_dir=sys.argv[1]) as registry:
    seen = registry.get_model("nba_model").version
    registry.register_model("nba_model", "v2.0", stage=ModelStage.STAGING, parent="v1.0")
    stats = registry.get_statistics()
    print(seen, stats["total_versions"], stats["production_count"])
"""


def test_another_process_sees_the_writes_and_its_writes_are_seen(clean_environment: Path, closing) -> None:
    registry = registry_in(closing, registry_dir="shared")
    registry.register_model("nba_model", "v1.0", stage=ModelStage.PRODUCTION, metrics={"accuracy": 0.81})
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), str(clean_environment / "shared")],
        cwd=clean_environment,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["v1.0", "2", "1"]
    assert registry.get_model("nba_model", "v2.0").parent is not None
    assert registry.get_lineage("nba_model", "v1.0").descendants[0].version.version == "v2.0"


def test_it_defaults_to_the_documents_directory_or_model_registry_dir(
    clean_environment: Path, closing, monkeypatch
) -> None:
    assert registry_in(closing).registry_dir == clean_environment / "model_registry"
    monkeypatch.setenv("MODEL_REGISTRY_DIR", "elsewhere")
    assert registry_in(closing).registry_dir == clean_environment / "elsewhere"
    assert (clean_environment / "elsewhere" / "registry.db").is_file()


def test_a_mock_registry_writes_no_file_and_shares_nothing(clean_environment: Path, closing) -> None:
    first, second = registry_in(closing, mock_mode=True), registry_in(closing, mock_mode=True)
    first.register_model("nba_model", "v1.0")
    assert first.get_statistics()["total_models"] == 1 and second.get_statistics()["total_models"] == 0
    assert first.registry_dir is None and first.services.mlflow is None
    assert list(clean_environment.iterdir()) == []


def test_the_seeds_moves_to_production_pass_through_staging(clean_environment: Path, closing) -> None:
    registry = registry_in(closing, mock_mode=True)
    registry.register_model("m", "v1.0", stage=ModelStage.DEVELOPMENT)
    registry.promote_model("m", "v1.0", target_stage=ModelStage.PRODUCTION)
    direct = registry.register_model("m", "v2.0", stage=ModelStage.PRODUCTION)
    assert direct.stage is ModelStage.PRODUCTION
    changes = [(c.version, c.from_stage, c.to_stage) for c in registry.get_history("m")]
    assert changes == [
        ("v1.0", None, ModelStage.DEVELOPMENT),
        ("v1.0", ModelStage.DEVELOPMENT, ModelStage.STAGING),
        ("v1.0", ModelStage.STAGING, ModelStage.PRODUCTION),
        ("v2.0", None, ModelStage.STAGING),
        ("v1.0", ModelStage.PRODUCTION, ModelStage.ARCHIVED),  # one production version, as always
        ("v2.0", ModelStage.STAGING, ModelStage.PRODUCTION),
    ]
    with pytest.raises(InvalidInputError, match="from archived the allowed target stages are: staging, development"):
        registry.promote_model("m", "v1.0", ModelStage.ARCHIVED)  # other moves keep the core's rules


def test_statistics_read_by_key_and_by_attribute(clean_environment: Path, closing) -> None:
    registry = registry_in(closing, mock_mode=True)
    registry.register_model("a", "v1.0", framework="sklearn")
    registry.register_model("b", "v1.0", framework="xgboost", stage="production")
    stats = registry.get_statistics()
    assert (stats["total_models"], stats["production_count"]) == (2, 1)
    assert stats.total_versions == stats["total_versions"] == 2
    assert dict(stats["by_framework"]) == {"sklearn": 1, "xgboost": 1}
    assert "total_models" in list(stats)
    with pytest.raises(KeyError):
        stats["models"]


def test_writes_need_the_same_permissions_as_the_tools(clean_environment: Path, closing) -> None:
    registry = registry_in(closing, mock_mode=True)
    with acting_as(OPERATOR):
        registry.register_model("m", "v1.0", stage=ModelStage.STAGING)
        with pytest.raises(PermissionDeniedError, match="promote_model needs the ADMIN"):
            registry.promote_model("m", "v1.0", ModelStage.PRODUCTION)
        with pytest.raises(PermissionDeniedError, match="promote_model needs the ADMIN"):
            registry.register_model("m", "v2.0", stage=ModelStage.PRODUCTION)
        assert registry.retire_model("m", "v1.0").version.stage is ModelStage.ARCHIVED
    assert [v.version for v in registry.list_versions("m")] == ["v1.0"]  # the refused v2.0 never registered
    with acting_as(Caller("scout", Role.VIEWER)), pytest.raises(PermissionDeniedError, match="WRITE"):
        registry.register_model("m", "v3.0")
