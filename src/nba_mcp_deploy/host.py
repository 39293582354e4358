"""Holds the services for the MCP server and builds them in the background at start-up.

An MCP client measures a server by how soon it answers `tools/list`. The tool schemas need only
light modules; the services (NumPy, the serving core, restoring deployments) are built on a
background thread meanwhile, and a tool call waits for them. Importing this module imports
nothing heavy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from nba_mcp_deploy.config import DeploymentConfig
from nba_mcp_deploy.errors import DeployError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.operations import OperationMetrics, process_operations

if TYPE_CHECKING:
    from nba_mcp_deploy.services import Services

log = get_logger(__name__)

STARTUP_TIMEOUT_SEC = 120.0


class ServiceHost:
    """A handle to the services that may still be being built."""

    def __init__(self, config: DeploymentConfig, factory: Callable[[], Services] | None = None) -> None:
        self.config = config
        # The process's metrics: `@track_metric` functions running beside the server show up too.
        self.operations: OperationMetrics = process_operations()
        self._factory = factory
        self._ready = threading.Event()
        self._services: Services | None = None
        self._failure: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    @classmethod
    def ready_made(cls, services: Services) -> ServiceHost:
        """A host around services that already exist (tests, embedding)."""
        host = cls(services.config)
        host.operations = services.operations
        host._services = services
        host._ready.set()
        return host

    def start(self) -> None:
        """Build the services on a background thread (idempotent)."""
        with self._start_lock:
            if self._ready.is_set() or self._thread is not None:
                return
            self._thread = threading.Thread(target=self._build, name="services-start", daemon=True)
            self._thread.start()

    def start_within(self, seconds: float) -> None:
        """Start at the latest after `seconds` (sooner if a tool call or `start()` asks).

        On stdio the server answers the client's `initialize` and `tools/list` first: building
        the services imports NumPy and the core, and under the GIL that would slow those answers.
        """
        timer = threading.Timer(seconds, self.start)
        timer.daemon = True
        timer.start()

    def is_ready(self) -> bool:
        """Whether start-up has finished (successfully or not): `services()` will not wait."""
        return self._ready.is_set()

    def services(self, timeout: float = STARTUP_TIMEOUT_SEC) -> Services:
        """The services, waiting for start-up to finish if it has not."""
        if not self._ready.is_set():
            self.start()
            if not self._ready.wait(timeout):
                raise DeployError(f"the server is still starting after {timeout:.0f}s; try again shortly")
        if self._services is None:
            raise DeployError(f"the server failed to start: {self._failure}")
        return self._services

    def close(self) -> None:
        if self._services is not None:
            self._services.close()

    def _build(self) -> None:
        try:
            if self._factory is not None:
                self._services = self._factory()
            else:
                from nba_mcp_deploy.services import build_services

                self._services = build_services(self.config, operations=self.operations)
        except BaseException as exc:
            self._failure = exc
            log.exception("service start-up failed")
        finally:
            self._ready.set()
