"""How every object of the Python API is built: keywords -> one `DeploymentConfig` -> the services
the server runs on (`services.build_services`), and how those services are closed again.

Rules, stated once for every facade:

- Start from the environment (`environment.py`); keywords win. Any `DeploymentConfig` field is
  accepted as a keyword (`routing_seed=7`, `breaker_minimum_calls=5`); an unknown one is a
  TypeError, as for any Python call.
- MLflow is on when a tracking URI is known (`mlflow_tracking_uri=` or `MLFLOW_TRACKING_URI`),
  unless `enable_mlflow=False`. `enable_mlflow=True` without a URI uses MLflow's own default,
  the embedded `sqlite:///mlflow.db` in the working directory (what `mlflow` itself does when
  nothing is configured). A registry object also mirrors the registry to MLflow's model registry.
- Mock mode (the seed's "for testing without external dependencies"): MLflow is off whatever
  `enable_mlflow` says, and the registry is kept in memory (no file is written).
- Where the registry lives: `registry_dir=` if given; else a registry object uses
  `MODEL_REGISTRY_DIR` or `./model_registry` (the seed's default: the registry persists), while
  a serving manager or a monitor keeps it in memory unless `MODEL_REGISTRY_DIR` (or a
  PostgreSQL `NBA_MCP_REGISTRY_URL`) says where the deployment lives.
- Every object records into the process's operation metrics (`operations.process_operations`),
  which `@track_metric` also uses.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from nba_mcp_deploy.api.environment import Environment, read_environment
from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.logs import get_logger

if TYPE_CHECKING:
    from nba_mcp_deploy.services import Services

log = get_logger(__name__)

# How long closing an object waits for MLflow to receive what the object queued for it.
MLFLOW_WAIT_SEC = 10.0
# MLflow's own default tracking store when nothing is configured: this file in the working directory.
EMBEDDED_MLFLOW_FILE = "mlflow.db"

CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(DeploymentConfig))
_PATH_FIELDS = ("registry_dir", "auth_tokens_file")
_PATHS_FIELDS = ("model_roots", "data_roots")


class RegistryHome(Enum):
    """Where an object keeps the registry when no `registry_dir=` is given."""

    DIRECTORY = "directory"  # MODEL_REGISTRY_DIR, else ./model_registry (the registry's own objects)
    MEMORY_UNLESS_SET = "memory unless set"  # in memory unless the environment names a registry


def facade_config(
    environment: Environment,
    *,
    mock_mode: bool,
    enable_mlflow: bool | None,
    mlflow_tracking_uri: str | None,
    mlflow_experiment: str | None,
    registry_dir: str | Path | None,
    home: RegistryHome,
    mirror_registry: bool,
    settings: Mapping[str, Any],
) -> tuple[DeploymentConfig, bool]:
    """The config an object runs on, and whether its registry is kept in memory (see the rules)."""
    unknown = sorted(set(settings) - CONFIG_FIELDS)
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
            f"the other keywords are DeploymentConfig fields: {', '.join(sorted(CONFIG_FIELDS))}"
        )
    base = environment.config
    changes: dict[str, Any] = {name: _as_paths(name, value) for name, value in settings.items()}
    if mlflow_experiment is not None:
        changes["mlflow_experiment_name"] = mlflow_experiment
    if registry_dir is not None:
        if mock_mode:
            raise InvalidInputError(
                "registry_dir", str(registry_dir), "mock mode keeps the registry in memory and writes no file"
            )
        changes["registry_dir"] = Path(registry_dir).absolute()
    if mock_mode:
        changes.update(enable_mlflow=False, enable_mlflow_registry=False)
    else:
        changes.update(_mlflow_settings(environment, enable_mlflow, mlflow_tracking_uri, mirror_registry, settings))
    named = registry_dir is not None or "registry_url" in settings
    in_environment = bool({"registry_dir", "registry_url"} & environment.set_fields)
    in_memory = mock_mode or (home is RegistryHome.MEMORY_UNLESS_SET and not named and not in_environment)
    if in_memory and (changes.get("registry_url") or base.registry_url):
        changes["registry_url"] = None  # mock mode: not the shared database either
    return base.replace(**changes), in_memory


def _mlflow_settings(
    environment: Environment,
    enable_mlflow: bool | None,
    tracking_uri: str | None,
    mirror_registry: bool,
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    base = environment.config
    uri = tracking_uri or settings.get("mlflow_tracking_uri") or base.mlflow_tracking_uri
    if enable_mlflow is None:
        enable_mlflow = settings.get("enable_mlflow", tracking_uri is not None or base.enable_mlflow)
    if enable_mlflow and not uri:
        uri = f"sqlite:///{Path.cwd() / EMBEDDED_MLFLOW_FILE}"
        log.info("MLflow has no tracking URI: using the embedded default", extra={"tracking_uri": uri})
    if "enable_mlflow_registry" in settings:
        mirror = bool(settings["enable_mlflow_registry"])
    elif "enable_mlflow_registry" in environment.set_fields:
        mirror = base.enable_mlflow_registry
    else:
        mirror = mirror_registry
    return {
        "enable_mlflow": bool(enable_mlflow),
        "mlflow_tracking_uri": uri,
        "enable_mlflow_registry": bool(enable_mlflow) and mirror,
    }


def _as_paths(name: str, value: Any) -> Any:
    """Paths given as text, made absolute (as the environment's are)."""
    if name in _PATH_FIELDS and isinstance(value, str | Path):
        return Path(value).absolute()
    if name in _PATHS_FIELDS:
        values = (value,) if isinstance(value, str | Path) else tuple(value)
        return tuple(Path(v).absolute() for v in values)
    return value


def open_services(config: DeploymentConfig, *, in_memory: bool) -> Services:
    """The server's services for `config`, on an in-memory registry when asked."""
    from nba_mcp_deploy.operations import process_operations
    from nba_mcp_deploy.services import build_services

    store = None
    if in_memory:
        from nba_mcp_deploy.stores.sqlite_memory import MemoryRegistryStore

        store = MemoryRegistryStore()
    return build_services(config, operations=process_operations(), store=store)


def shut_down(services: Services, mlflow_wait_sec: float) -> None:
    """Give MLflow up to `mlflow_wait_sec` to receive what is queued, then close the services."""
    try:
        if services.mlflow is not None and not services.mlflow.drain(mlflow_wait_sec):
            log.warning(
                "closing before MLflow received everything",
                extra={"backlog": services.mlflow.status().backlog, "waited_sec": mlflow_wait_sec},
            )
    finally:
        services.close()


def _nothing() -> None:
    """What closing an object that shares another's services does."""


class ServicesOwner:
    """The services one API object built: closed once, by `close()`, on leaving a `with` block,
    when the object is dropped, or at interpreter exit (so what a script did reaches MLflow)."""

    def __init__(
        self,
        *,
        mock_mode: bool = False,
        enable_mlflow: bool | None = None,
        mlflow_tracking_uri: str | None = None,
        mlflow_experiment: str | None = None,
        registry_dir: str | Path | None = None,
        home: RegistryHome,
        mirror_registry: bool,
        settings: Mapping[str, Any],
    ) -> None:
        config, in_memory = facade_config(
            read_environment(),
            mock_mode=mock_mode,
            enable_mlflow=enable_mlflow,
            mlflow_tracking_uri=mlflow_tracking_uri,
            mlflow_experiment=mlflow_experiment,
            registry_dir=registry_dir,
            home=home,
            mirror_registry=mirror_registry,
            settings=settings,
        )
        self.mock_mode = mock_mode
        self.in_memory = in_memory
        self.services = open_services(config, in_memory=in_memory)
        self._owner: ServicesOwner | None = None
        # Runs once: on close(), when the object is dropped, or at exit (weakref.finalize's promise).
        self._closer: Callable[[], object] = weakref.finalize(self, shut_down, self.services, MLFLOW_WAIT_SEC)

    @classmethod
    def sharing(cls, owner: ServicesOwner) -> Self:
        """An object of this class on `owner`'s services (e.g. a manager's monitor of one model):
        it keeps them open while it lives, and closing it closes nothing."""
        shared = cls.__new__(cls)
        shared.mock_mode = owner.mock_mode
        shared.in_memory = owner.in_memory
        shared.services = owner.services
        shared._owner = owner
        shared._closer = weakref.finalize(shared, _nothing)
        return shared

    @property
    def config(self) -> DeploymentConfig:
        """The configuration the object runs on (environment, then keywords)."""
        return self.services.config

    def close(self) -> None:
        """Stop the object's background work and release its registry (idempotent)."""
        self._closer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
