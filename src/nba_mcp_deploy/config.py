"""One `DeploymentConfig`, built once by the entry point and passed down.

Only the entry point reads the environment: it calls `DeploymentConfig.from_env(os.environ, cwd)`.
Everything else receives the config object. The seed's variable names are kept
(`MLFLOW_TRACKING_URI`, `MODEL_REGISTRY_DIR`, ...); our own settings use `NBA_MCP_*`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nba_mcp_deploy.access.permissions import ROLE_NAMES
from nba_mcp_deploy.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
REGISTRY_URL_PREFIXES = ("postgresql+psycopg://", "postgresql://")
REPLICA_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class DeploymentConfig:
    """Every setting of the product, with its default."""

    # MLflow (the seed's fields).
    enable_mlflow: bool = False
    mlflow_tracking_uri: str | None = None
    mlflow_experiment_name: str = "nba-mcp-deploy"
    enable_mlflow_registry: bool = False
    # Where the registry file lives; also a trusted model root.
    registry_dir: Path = Path("model_registry")
    # Local model files load only from these directories (pickle runs code).
    model_roots: tuple[Path, ...] = (Path("models"),)
    # Data files (reference / current data) load only from these directories.
    data_roots: tuple[Path, ...] = (Path("data"),)
    # Circuit breaker: failure rate (0-1] that opens it (the seed's `error_threshold`).
    error_threshold: float = 0.1
    breaker_window_size: int = 100
    breaker_minimum_calls: int = 20
    breaker_open_wait_sec: float = 30.0
    breaker_half_open_calls: int = 5
    # How often a health sample feeds the dashboard's latency / error-rate sparklines.
    health_check_interval_sec: float = 30.0
    # Monitoring thresholds (the seed's fields).
    drift_threshold: float = 0.1
    performance_threshold: float = 0.05
    error_rate_threshold: float = 0.05
    latency_threshold_ms: float = 100.0
    # Significance level of the p-value drift tests (KS, chi-square); drift_threshold is the
    # cut-off of the distance scores (PSI, KL, Jensen-Shannon, normed Wasserstein).
    drift_significance: float = 0.05
    # Monitoring: logged predictions kept per model, PSI/KL bins, alert cool-down, reference size.
    monitor_window_size: int = 100_000
    drift_bins: int = 10
    alert_cooldown_sec: float = 300.0
    max_reference_rows: int = 2_000_000
    # Alerts are also POSTed here (JSON with a Slack-compatible `text`); None = off.
    alert_webhook_url: str | None = None
    # Bounded memory and input sizes.
    latency_window: int = 2048
    max_records_per_predict: int = 10_000
    max_features_per_record: int = 1_000
    shadow_queue_size: int = 1_000
    log_level: str = "INFO"
    # Promoting an undeployed version with a model_uri to production deploys it first.
    auto_deploy_on_promote: bool = True
    # fsync every registry commit (survives power loss); False survives only process crashes.
    registry_sync_every_commit: bool = True
    # Seed for routing randomness; None means seeded from the OS.
    routing_seed: int | None = None
    # Experiments: A/B-routed requests kept per model for analysis; how often (seconds) running
    # canaries are evaluated even without traffic (served requests also trigger evaluations).
    experiment_window_size: int = 50_000
    canary_check_interval_sec: float = 5.0
    # Audit entries older than this many days are deleted (writes check now and then); None keeps all.
    audit_retention_days: float | None = None
    # Access: the role of the local caller (stdio, and HTTP without tokens), the bearer-token
    # file for HTTP (`name role sha256-hex` lines), and the largest HTTP request body.
    role: str = "admin"
    auth_tokens_file: Path | None = None
    max_payload_bytes: int = 16 * 1024 * 1024
    # Several replicas: the registry and control state in a PostgreSQL database they share
    # (postgresql+psycopg://user:password@host:5432/db; None = the sqlite file in registry_dir),
    # this replica's name (None = hostname-pid), how often it checks the store for routing
    # changes made elsewhere (PostgreSQL also wakes it at once), and how often it writes its
    # traffic counters there (A/B results and canary guards add every replica's up).
    registry_url: str | None = field(default=None, repr=False)
    replica_id: str | None = None
    control_poll_interval_sec: float = 1.0
    traffic_flush_interval_sec: float = 2.0
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_fraction("error_threshold", self.error_threshold, allow_zero=False)
        for name in (
            "drift_threshold",
            "performance_threshold",
            "error_rate_threshold",
            "drift_significance",
        ):
            _check_fraction(name, getattr(self, name), allow_zero=True)
        for name in (
            "breaker_window_size",
            "breaker_minimum_calls",
            "breaker_half_open_calls",
            "latency_window",
            "max_records_per_predict",
            "max_features_per_record",
            "shadow_queue_size",
            "monitor_window_size",
            "max_reference_rows",
            "experiment_window_size",
            "max_payload_bytes",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(name, value, "must be a whole number >= 1")
        if (
            not isinstance(self.drift_bins, int)
            or isinstance(self.drift_bins, bool)
            or not 2 <= self.drift_bins <= 1000
        ):
            raise ConfigError("drift_bins", self.drift_bins, "must be a whole number from 2 to 1000")
        if self.alert_webhook_url is not None and not self.alert_webhook_url.startswith(("http://", "https://")):
            raise ConfigError("alert_webhook_url", self.alert_webhook_url, "must be an http:// or https:// URL")
        if not isinstance(self.alert_cooldown_sec, int | float) or not self.alert_cooldown_sec >= 0:
            raise ConfigError("alert_cooldown_sec", self.alert_cooldown_sec, "must be a number of seconds >= 0")
        for name in (
            "breaker_open_wait_sec",
            "health_check_interval_sec",
            "latency_threshold_ms",
            "canary_check_interval_sec",
            "control_poll_interval_sec",
            "traffic_flush_interval_sec",
        ):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not value > 0:
                raise ConfigError(name, value, "must be a number > 0")
        if self.audit_retention_days is not None and (
            isinstance(self.audit_retention_days, bool)
            or not isinstance(self.audit_retention_days, int | float)
            or not 0 < self.audit_retention_days < 1e6
        ):
            raise ConfigError("audit_retention_days", self.audit_retention_days, "a number of days > 0, or unset")
        if self.breaker_minimum_calls > self.breaker_window_size:
            raise ConfigError(
                "breaker_minimum_calls",
                self.breaker_minimum_calls,
                f"must not exceed breaker_window_size ({self.breaker_window_size})",
            )
        if self.registry_url is not None and not self.registry_url.startswith(REGISTRY_URL_PREFIXES):
            raise ConfigError(
                "registry_url",
                self.registry_url.split("@")[-1],
                "expected postgresql+psycopg://user:password@host:5432/database (or unset for the sqlite file)",
            )
        if self.replica_id is not None and not REPLICA_ID.fullmatch(self.replica_id):
            raise ConfigError("replica_id", self.replica_id, "1-128 letters, digits and . _ - :")
        if self.role not in ROLE_NAMES:
            raise ConfigError("role", self.role, f"allowed roles: {', '.join(ROLE_NAMES)}")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError("log_level", self.log_level, f"allowed: {', '.join(LOG_LEVELS)}")
        if self.enable_mlflow and not self.mlflow_tracking_uri:
            raise ConfigError("mlflow_tracking_uri", self.mlflow_tracking_uri, "required when enable_mlflow is true")
        if self.enable_mlflow_registry and not self.enable_mlflow:
            raise ConfigError(
                "enable_mlflow_registry",
                self.enable_mlflow_registry,
                "mirroring the registry needs MLflow: set MLFLOW_TRACKING_URI too (or leave it off)",
            )

    @property
    def trusted_model_roots(self) -> tuple[Path, ...]:
        """The configured model roots plus the registry directory (it caches downloaded models)."""
        roots = list(self.model_roots)
        if self.registry_dir not in roots:
            roots.append(self.registry_dir)
        return tuple(roots)

    @property
    def audit_retention_sec(self) -> float | None:
        """`audit_retention_days` in seconds (None: the audit log keeps every entry)."""
        return None if self.audit_retention_days is None else self.audit_retention_days * 86_400.0

    def replace(self, **changes: Any) -> DeploymentConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], cwd: Path) -> DeploymentConfig:
        """Build the config from environment variables; relative paths are taken from `cwd`.

        Called by the entry point only. Unknown `NBA_MCP_*` variables are refused so that a
        typo does not silently fall back to a default.
        """
        values: dict[str, Any] = {}
        for variable, (name, parse) in ENVIRONMENT.items():
            raw = environ.get(variable)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[name] = parse(raw.strip(), cwd)
            except ValueError as exc:
                raise ConfigError(variable, raw, str(exc)) from None
        unknown = sorted(v for v in environ if v.startswith("NBA_MCP_") and v not in ENVIRONMENT)
        known_elsewhere = {v for v in unknown if v in OTHER_NBA_MCP_VARIABLES}
        unknown = [v for v in unknown if v not in known_elsewhere]
        if unknown:
            raise ConfigError(
                "environment",
                unknown,
                f"unknown NBA_MCP_* variables; known: {', '.join(sorted(ENVIRONMENT))}",
            )
        values.setdefault("registry_dir", cwd / "model_registry")
        values.setdefault("model_roots", (cwd / "models",))
        values.setdefault("data_roots", (cwd / "data",))
        if values.get("mlflow_tracking_uri") and "enable_mlflow" not in values:
            values["enable_mlflow"] = True
        return cls(**values)


def _check_fraction(name: str, value: Any, *, allow_zero: bool) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not isinstance(value, int | float) or isinstance(value, bool) or not (low_ok and value <= 1):
        bound = "[0, 1]" if allow_zero else "(0, 1]"
        raise ConfigError(name, value, f"must be a number in {bound}")


def _parse_bool(raw: str, _cwd: Path) -> bool:
    lowered = raw.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected one of true/false, 1/0, yes/no, on/off")


def _parse_float(raw: str, _cwd: Path) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ValueError("expected a number") from None


def _parse_int(raw: str, _cwd: Path) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _parse_str(raw: str, _cwd: Path) -> str:
    return raw


def _parse_upper(raw: str, _cwd: Path) -> str:
    return raw.upper()


def _parse_lower(raw: str, _cwd: Path) -> str:
    return raw.lower()


def _parse_path(raw: str, cwd: Path) -> Path:
    return (cwd / Path(raw).expanduser()).absolute()


def _parse_paths(raw: str, cwd: Path) -> tuple[Path, ...]:
    parts = [p for p in raw.split(os.pathsep) if p.strip()]
    if not parts:
        raise ValueError(f"expected one or more directories separated by {os.pathsep!r}")
    return tuple(_parse_path(p, cwd) for p in parts)


Parser = Callable[[str, Path], Any]

# Environment variable -> (DeploymentConfig field, parser). The seed's names first.
ENVIRONMENT: dict[str, tuple[str, Parser]] = {
    "MLFLOW_TRACKING_URI": ("mlflow_tracking_uri", _parse_str),
    "MLFLOW_EXPERIMENT_NAME": ("mlflow_experiment_name", _parse_str),
    "MODEL_REGISTRY_DIR": ("registry_dir", _parse_path),
    "ENABLE_MLFLOW_REGISTRY": ("enable_mlflow_registry", _parse_bool),
    "DRIFT_THRESHOLD": ("drift_threshold", _parse_float),
    "ERROR_RATE_THRESHOLD": ("error_rate_threshold", _parse_float),
    "LATENCY_THRESHOLD_MS": ("latency_threshold_ms", _parse_float),
    "NBA_MCP_ENABLE_MLFLOW": ("enable_mlflow", _parse_bool),
    "NBA_MCP_ERROR_THRESHOLD": ("error_threshold", _parse_float),
    "NBA_MCP_PERFORMANCE_THRESHOLD": ("performance_threshold", _parse_float),
    "NBA_MCP_HEALTH_CHECK_INTERVAL_SEC": ("health_check_interval_sec", _parse_float),
    "NBA_MCP_MODEL_ROOTS": ("model_roots", _parse_paths),
    "NBA_MCP_DATA_ROOTS": ("data_roots", _parse_paths),
    "NBA_MCP_BREAKER_WINDOW": ("breaker_window_size", _parse_int),
    "NBA_MCP_BREAKER_MIN_CALLS": ("breaker_minimum_calls", _parse_int),
    "NBA_MCP_BREAKER_OPEN_SEC": ("breaker_open_wait_sec", _parse_float),
    "NBA_MCP_BREAKER_HALF_OPEN_CALLS": ("breaker_half_open_calls", _parse_int),
    "NBA_MCP_LATENCY_WINDOW": ("latency_window", _parse_int),
    "NBA_MCP_MAX_RECORDS_PER_PREDICT": ("max_records_per_predict", _parse_int),
    "NBA_MCP_MAX_FEATURES_PER_RECORD": ("max_features_per_record", _parse_int),
    "NBA_MCP_SHADOW_QUEUE_SIZE": ("shadow_queue_size", _parse_int),
    "NBA_MCP_LOG_LEVEL": ("log_level", _parse_upper),
    "NBA_MCP_ROUTING_SEED": ("routing_seed", _parse_int),
    "NBA_MCP_AUTO_DEPLOY_ON_PROMOTE": ("auto_deploy_on_promote", _parse_bool),
    "NBA_MCP_REGISTRY_FSYNC": ("registry_sync_every_commit", _parse_bool),
    "NBA_MCP_DRIFT_SIGNIFICANCE": ("drift_significance", _parse_float),
    "NBA_MCP_MONITOR_WINDOW": ("monitor_window_size", _parse_int),
    "NBA_MCP_DRIFT_BINS": ("drift_bins", _parse_int),
    "NBA_MCP_ALERT_COOLDOWN_SEC": ("alert_cooldown_sec", _parse_float),
    "NBA_MCP_MAX_REFERENCE_ROWS": ("max_reference_rows", _parse_int),
    "NBA_MCP_ALERT_WEBHOOK_URL": ("alert_webhook_url", _parse_str),
    "NBA_MCP_EXPERIMENT_WINDOW": ("experiment_window_size", _parse_int),
    "NBA_MCP_AUDIT_RETENTION_DAYS": ("audit_retention_days", _parse_float),
    "NBA_MCP_CANARY_CHECK_SEC": ("canary_check_interval_sec", _parse_float),
    "NBA_MCP_ROLE": ("role", _parse_lower),
    "NBA_MCP_AUTH_TOKENS_FILE": ("auth_tokens_file", _parse_path),
    "NBA_MCP_MAX_PAYLOAD_BYTES": ("max_payload_bytes", _parse_int),
    "NBA_MCP_REGISTRY_URL": ("registry_url", _parse_str),
    "NBA_MCP_REPLICA_ID": ("replica_id", _parse_str),
    "NBA_MCP_CONTROL_POLL_SEC": ("control_poll_interval_sec", _parse_float),
    "NBA_MCP_TRAFFIC_FLUSH_SEC": ("traffic_flush_interval_sec", _parse_float),
}

# NBA_MCP_* variables read by the entry point itself rather than mapped onto a field.
OTHER_NBA_MCP_VARIABLES: frozenset[str] = frozenset()
