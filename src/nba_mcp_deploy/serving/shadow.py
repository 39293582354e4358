"""Shadow traffic: mirror live requests to a shadow version off the request path and compare.

The live answer is computed and returned first; the mirrored request goes into a bounded queue
that one background thread drains. A full queue drops the mirror (counted), a failing shadow
is counted, and neither can touch the live answer or slow it beyond an enqueue.

Comparison: for classifiers, agreement is equal labels and the difference is the mean absolute
difference of the class probabilities; for regressors, agreement is a relative difference of at
most `REGRESSION_AGREEMENT_RTOL` and the difference is the mean absolute difference of the
predictions.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.serving.ports import LoadedModel, ModelOutput

REGRESSION_AGREEMENT_RTOL = 0.01

log = get_logger(__name__)


@dataclass(frozen=True)
class ShadowConfig:
    """Which standby version live requests are mirrored to, and what fraction of them."""

    version: str
    fraction: float


@dataclass(frozen=True)
class ShadowSnapshot:
    mirrored_requests: int
    dropped_requests: int
    errors: int
    compared_rows: int
    agreement_rate: float | None
    mean_abs_difference: float | None
    mean_latency_ms: float | None
    last_error: str | None


class ShadowStats:
    """Running comparison totals for one shadow version (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.mirrored = 0
        self.dropped = 0
        self.errors = 0
        self.rows = 0
        self.agreements = 0
        self.abs_difference_sum = 0.0
        self.latency_sum_ms = 0.0
        self.last_error: str | None = None

    def count_dropped(self) -> None:
        with self._lock:
            self.dropped += 1

    def record(self, live: ModelOutput, shadow: ModelOutput | None, latency_ms: float, error: str | None) -> None:
        with self._lock:
            self.mirrored += 1
            self.latency_sum_ms += latency_ms
            if shadow is None:
                self.errors += 1
                self.last_error = error
                return
            agreements, difference_sum, rows = compare_outputs(live, shadow)
            self.rows += rows
            self.agreements += agreements
            self.abs_difference_sum += difference_sum

    def snapshot(self) -> ShadowSnapshot:
        with self._lock:
            return ShadowSnapshot(
                mirrored_requests=self.mirrored,
                dropped_requests=self.dropped,
                errors=self.errors,
                compared_rows=self.rows,
                agreement_rate=(self.agreements / self.rows) if self.rows else None,
                mean_abs_difference=(self.abs_difference_sum / self.rows) if self.rows else None,
                mean_latency_ms=(self.latency_sum_ms / self.mirrored) if self.mirrored else None,
                last_error=self.last_error,
            )


def compare_outputs(live: ModelOutput, shadow: ModelOutput) -> tuple[int, float, int]:
    """(rows that agree, sum of absolute differences, rows compared) for one mirrored request."""
    rows = len(live.predictions)
    if len(shadow.predictions) != rows:
        return 0, 0.0, 0
    if live.probabilities is not None and shadow.probabilities is not None:
        agreements = int(np.sum(np.asarray(live.predictions) == np.asarray(shadow.predictions)))
        if live.probabilities.shape == shadow.probabilities.shape:
            per_row = np.abs(live.probabilities - shadow.probabilities).mean(axis=1)
            return agreements, float(per_row.sum()), rows
        return agreements, 0.0, rows
    try:
        a = np.asarray(live.predictions, dtype=np.float64)
        b = np.asarray(shadow.predictions, dtype=np.float64)
    except (TypeError, ValueError):
        equal = np.asarray(live.predictions) == np.asarray(shadow.predictions)
        return int(np.sum(equal)), float(rows - np.sum(equal)), rows
    difference = np.abs(a - b).reshape(rows, -1).mean(axis=1)
    scale = np.maximum(np.abs(a).reshape(rows, -1).mean(axis=1), 1e-12)
    agreements = int(np.sum(difference <= REGRESSION_AGREEMENT_RTOL * scale))
    return agreements, float(difference.sum()), rows


@dataclass(frozen=True)
class _Mirror:
    model: LoadedModel
    stats: ShadowStats
    features: npt.NDArray[np.float64]
    live: ModelOutput


class ShadowRunner:
    """One daemon thread draining a bounded queue of mirrored requests."""

    def __init__(self, queue_size: int, timer: Callable[[], float] = time.perf_counter) -> None:
        self._queue: queue.Queue[_Mirror | None] = queue.Queue(maxsize=queue_size)
        self._timer = timer
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False

    def submit(
        self, model: LoadedModel, stats: ShadowStats, features: npt.NDArray[np.float64], live: ModelOutput
    ) -> None:
        """Enqueue without waiting; a full queue (or a closed runner) drops the mirror."""
        if self._closed:
            stats.count_dropped()
            return
        self._ensure_started()
        try:
            self._queue.put_nowait(_Mirror(model, stats, features, live))
        except queue.Full:
            stats.count_dropped()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued mirror is processed (tests and demos); False on timeout."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.001)
        return True

    def close(self) -> None:
        self._closed = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _ensure_started(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="shadow-runner", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._mirror(item)
            finally:
                self._queue.task_done()

    def _mirror(self, item: _Mirror) -> None:
        start = self._timer()
        try:
            output = item.model.infer(item.features)
        except Exception as exc:  # a failing shadow is recorded, never raised
            item.stats.record(item.live, None, (self._timer() - start) * 1000, f"{type(exc).__name__}: {exc}")
            return
        item.stats.record(item.live, output, (self._timer() - start) * 1000, None)
