"""Per-operation metrics (the seed's `track_metric`): how often each operation ran, failed, took.

Every MCP tool call is tracked here by the server's error boundary, and `health_check` reports
the totals, so an agent can see that, say, `deploy_model` has failed three times in a row.

`process_operations()` is the process's own set: the server that `nba-mcp-deploy serve` starts
reports it (in `health_check` and `/metrics`), the Python API's objects report it, and the
`@track_metric` decorator records into it, so a decorated function of a script or of code
running beside the server shows up wherever the process reports its operations.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class OperationStats:
    count: int
    errors: int
    mean_ms: float
    max_ms: float
    last_error: str | None


class OperationMetrics:
    """Thread-safe counters and durations per operation name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: dict[str, int] = {}
        self._errors: dict[str, int] = {}
        self._total_ms: dict[str, float] = {}
        self._max_ms: dict[str, float] = {}
        self._last_error: dict[str, str] = {}

    def record(self, operation: str, duration_ms: float, error: str | None = None) -> None:
        with self._lock:
            self._count[operation] = self._count.get(operation, 0) + 1
            self._total_ms[operation] = self._total_ms.get(operation, 0.0) + duration_ms
            self._max_ms[operation] = max(self._max_ms.get(operation, 0.0), duration_ms)
            if error is not None:
                self._errors[operation] = self._errors.get(operation, 0) + 1
                self._last_error[operation] = error

    @contextmanager
    def track(self, operation: str) -> Iterator[None]:
        """Time the block and count it; an exception counts as an error and propagates."""
        start = time.perf_counter()
        try:
            yield
        except Exception as exc:
            self.record(operation, (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}")
            raise
        self.record(operation, (time.perf_counter() - start) * 1000)

    def snapshot(self) -> dict[str, OperationStats]:
        with self._lock:
            return {
                name: OperationStats(
                    count=count,
                    errors=self._errors.get(name, 0),
                    mean_ms=self._total_ms[name] / count,
                    max_ms=self._max_ms[name],
                    last_error=self._last_error.get(name),
                )
                for name, count in sorted(self._count.items())
            }


_PROCESS_OPERATIONS = OperationMetrics()


def process_operations() -> OperationMetrics:
    """The process's operation metrics (see the module docstring); one object for the process."""
    return _PROCESS_OPERATIONS
