"""DeploymentConfig: defaults, the seed's environment variables, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nba_mcp_deploy.config import ENVIRONMENT, DeploymentConfig
from nba_mcp_deploy.errors import ConfigError


def test_defaults_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    config = DeploymentConfig.from_env({}, tmp_path)
    assert config.registry_dir == tmp_path / "model_registry"
    assert config.model_roots == (tmp_path / "models",)
    assert config.trusted_model_roots == (tmp_path / "models", tmp_path / "model_registry")
    assert config.data_roots == (tmp_path / "data",)
    assert not config.enable_mlflow
    assert config.error_threshold == 0.1


def test_the_seed_variables_are_read(tmp_path: Path) -> None:
    env = {
        "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
        "MLFLOW_EXPERIMENT_NAME": "nba",
        "MODEL_REGISTRY_DIR": "reg",
        "ENABLE_MLFLOW_REGISTRY": "true",
        "DRIFT_THRESHOLD": "0.2",
        "ERROR_RATE_THRESHOLD": "0.01",
        "LATENCY_THRESHOLD_MS": "250",
        "NBA_MCP_MODEL_ROOTS": os.pathsep.join(["m1", "/abs/m2"]),
        "NBA_MCP_BREAKER_OPEN_SEC": "5",
        "NBA_MCP_LOG_LEVEL": "debug",
    }
    config = DeploymentConfig.from_env(env, tmp_path)
    assert config.mlflow_tracking_uri == "http://127.0.0.1:5000"
    assert config.enable_mlflow  # a tracking URI turns MLflow on unless told otherwise
    assert config.mlflow_experiment_name == "nba"
    assert config.registry_dir == tmp_path / "reg"
    assert config.enable_mlflow_registry
    assert (config.drift_threshold, config.error_rate_threshold, config.latency_threshold_ms) == (0.2, 0.01, 250)
    assert config.model_roots == (tmp_path / "m1", Path("/abs/m2"))
    assert config.breaker_open_wait_sec == 5
    assert config.log_level == "DEBUG"


def test_audit_retention_is_off_unless_set(tmp_path: Path) -> None:
    assert DeploymentConfig.from_env({}, tmp_path).audit_retention_sec is None
    config = DeploymentConfig.from_env({"NBA_MCP_AUDIT_RETENTION_DAYS": "30"}, tmp_path)
    assert config.audit_retention_days == 30 and config.audit_retention_sec == 30 * 86_400


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"DRIFT_THRESHOLD": "high"}, "DRIFT_THRESHOLD"),
        ({"ERROR_RATE_THRESHOLD": "1.5"}, "error_rate_threshold"),
        ({"ENABLE_MLFLOW_REGISTRY": "maybe"}, "ENABLE_MLFLOW_REGISTRY"),
        ({"NBA_MCP_BREAKER_WINDOW": "0"}, "breaker_window_size"),
        ({"NBA_MCP_BREAKER_MIN_CALLS": "500"}, "breaker_minimum_calls"),
        ({"NBA_MCP_LOG_LEVEL": "LOUD"}, "log_level"),
        ({"NBA_MCP_ENABLE_MLFLOW": "1"}, "mlflow_tracking_uri"),
        ({"ENABLE_MLFLOW_REGISTRY": "true"}, "enable_mlflow_registry.*MLFLOW_TRACKING_URI"),
        ({"NBA_MCP_MODELROOTS": "x"}, "unknown NBA_MCP_"),
        ({"NBA_MCP_ROLE": "root"}, "role.*allowed roles: viewer, operator, admin"),
        ({"NBA_MCP_MAX_PAYLOAD_BYTES": "0"}, "max_payload_bytes"),
        ({"NBA_MCP_AUDIT_RETENTION_DAYS": "0"}, "audit_retention_days"),
        ({"NBA_MCP_AUDIT_RETENTION_DAYS": "forever"}, "NBA_MCP_AUDIT_RETENTION_DAYS"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        DeploymentConfig.from_env(env, tmp_path)


def test_every_variable_maps_to_a_real_field() -> None:
    fields = set(DeploymentConfig.__dataclass_fields__)
    assert {name for name, _ in ENVIRONMENT.values()} <= fields


def test_access_settings(tmp_path: Path) -> None:
    defaults = DeploymentConfig.from_env({}, tmp_path)
    assert (defaults.role, defaults.auth_tokens_file, defaults.max_payload_bytes) == ("admin", None, 16 * 1024 * 1024)
    env = {"NBA_MCP_ROLE": "Viewer", "NBA_MCP_AUTH_TOKENS_FILE": "secrets/tokens", "NBA_MCP_MAX_PAYLOAD_BYTES": "1000"}
    config = DeploymentConfig.from_env(env, tmp_path)
    assert (config.role, config.auth_tokens_file, config.max_payload_bytes) == (
        "viewer",
        tmp_path / "secrets/tokens",
        1000,
    )


def test_the_replica_settings_come_from_the_environment_and_the_password_is_never_printed(tmp_path, capsys):
    from nba_mcp_deploy.cli import shown_config

    environ = {
        "NBA_MCP_REGISTRY_URL": "postgresql+psycopg://nba:s3cret@db:5432/registry",
        "NBA_MCP_REPLICA_ID": "east-1",
        "NBA_MCP_CONTROL_POLL_SEC": "0.5",
        "NBA_MCP_TRAFFIC_FLUSH_SEC": "3",
    }
    config = DeploymentConfig.from_env(environ, tmp_path)
    assert (config.replica_id, config.control_poll_interval_sec, config.traffic_flush_interval_sec) == (
        "east-1",
        0.5,
        3.0,
    )
    assert "s3cret" not in repr(config)
    assert shown_config(config)["registry_url"] == "postgresql+psycopg://nba:***@db:5432/registry"
    with pytest.raises(ConfigError, match="registry_url"):
        DeploymentConfig(registry_url="mysql://nba:s3cret@db/registry")
    with pytest.raises(ConfigError, match="replica_id"):
        DeploymentConfig(replica_id="has spaces")
