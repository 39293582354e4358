"""Adaptive batching: concurrent small requests for one model version gathered into one model call.

Off by default; `ModelServingManager.set_batching(model_id, max_batch_size, max_wait_ms)` turns it
on for every version of a model (as MLServer's `max_batch_size` / `max_batch_time` and Ray Serve's
`@serve.batch(max_batch_size, batch_wait_timeout_s)` do). Each batched version gets one worker
thread:

    caller threads ──submit(rows, done)──▶ queue ──▶ worker: wait until the queue holds
                                                      max_batch_size rows, or max_wait has passed
                                                      since the oldest request arrived; then ONE
                                                      model call on the stacked rows, and each
                                                      caller's `done` gets its own slice

A failing call fails every request of the batch with the model's error. The worker only calls
the model and hands back slices: routing, the circuit breaker, metrics and observers stay per
request in the manager, so they count requests, not batches. Deadlines come from the injected
clock; a waiting worker re-reads it at least every `POLL_SEC`, so a manual clock advanced by a
test is noticed without a real wait of max_wait.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.logs import get_logger
from nba_mcp_deploy.serving.ports import ModelOutput

log = get_logger(__name__)

MAX_BATCH_SIZE = 10_000
MAX_WAIT_MS = 1_000.0
# A waiting worker re-reads the clock at least this often (see the module docstring).
POLL_SEC = 0.05

# Called once per request with its own rows' output, or the batch's error.
Done = Callable[[ModelOutput | None, BaseException | None], None]


@dataclass(frozen=True)
class BatchSettings:
    """How a model's requests are gathered: at most `max_batch_size` rows per model call, and no
    request waits more than `max_wait_ms` for others to join (0: batch only what is already queued)."""

    max_batch_size: int
    max_wait_ms: float

    def __post_init__(self) -> None:
        size = self.max_batch_size
        if not isinstance(size, int) or isinstance(size, bool) or not 2 <= size <= MAX_BATCH_SIZE:
            raise InvalidInputError(
                "max_batch_size", size, f"must be a whole number from 2 to {MAX_BATCH_SIZE} (rows per model call)"
            )
        wait = self.max_wait_ms
        if (
            not isinstance(wait, int | float)
            or isinstance(wait, bool)
            or not math.isfinite(wait)
            or not 0 <= wait <= MAX_WAIT_MS
        ):
            raise InvalidInputError("max_wait_ms", wait, f"must be a number of milliseconds from 0 to {MAX_WAIT_MS:g}")

    def to_document(self) -> dict[str, Any]:
        return {"max_batch_size": self.max_batch_size, "max_wait_ms": float(self.max_wait_ms)}


@dataclass(frozen=True)
class BatchStats:
    """What a version's batcher has done: model calls against the requests and rows they carried."""

    max_batch_size: int
    max_wait_ms: float
    model_calls: int
    requests: int
    rows: int
    failed_calls: int
    largest_batch: int
    mean_requests_per_call: float | None


@dataclass(slots=True)
class _Pending:
    features: npt.NDArray[np.float64]
    done: Done
    arrived: float


class MicroBatcher:
    """One model version's queue and worker thread. Thread-safe; `close` drains what is queued."""

    def __init__(
        self,
        infer: Callable[[npt.NDArray[np.float64]], ModelOutput],
        settings: BatchSettings,
        *,
        clock: Clock,
        name: str,
    ) -> None:
        self.settings = settings
        self._infer = infer
        self._clock = clock
        self._wait_sec = settings.max_wait_ms / 1000
        self._cond = threading.Condition(threading.Lock())
        self._queue: deque[_Pending] = deque()
        self._queued_rows = 0
        self._closed = False
        self._calls = self._requests = self._rows = self._failed = self._largest = 0
        self._thread = threading.Thread(target=self._run, name=f"batch-{name}", daemon=True)
        self._thread.start()

    def submit(self, features: npt.NDArray[np.float64], done: Done) -> bool:
        """Queue one request's rows; `done` is called from the worker. False once closed (the
        caller then calls the model itself)."""
        with self._cond:
            if self._closed:
                return False
            self._queue.append(_Pending(features, done, self._clock.monotonic()))
            self._queued_rows += len(features)
            self._cond.notify()
        return True

    def close(self, timeout: float | None = None) -> None:
        """Stop taking requests; the worker runs what is queued, then exits (waited for `timeout`)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if timeout is None or timeout > 0:
            self._thread.join(timeout)

    def stats(self) -> BatchStats:
        with self._cond:
            calls, requests, rows, failed, largest = (
                self._calls,
                self._requests,
                self._rows,
                self._failed,
                self._largest,
            )
        return BatchStats(
            max_batch_size=self.settings.max_batch_size,
            max_wait_ms=self.settings.max_wait_ms,
            model_calls=calls,
            requests=requests,
            rows=rows,
            failed_calls=failed,
            largest_batch=largest,
            mean_requests_per_call=requests / calls if calls else None,
        )

    # -- the worker ------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._execute(batch)

    def _next_batch(self) -> list[_Pending] | None:
        """Block until a batch is due; None once closed and drained."""
        limit = self.settings.max_batch_size
        with self._cond:
            while not self._queue:
                if self._closed:
                    return None
                self._cond.wait()
            deadline = self._queue[0].arrived + self._wait_sec
            while self._queued_rows < limit and not self._closed:
                remaining = deadline - self._clock.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, POLL_SEC))
            batch = [self._queue.popleft()]
            rows = len(batch[0].features)
            while self._queue and rows + len(self._queue[0].features) <= limit:
                item = self._queue.popleft()
                rows += len(item.features)
                batch.append(item)
            self._queued_rows -= rows
            return batch

    def _execute(self, batch: list[_Pending]) -> None:
        sizes = [len(item.features) for item in batch]
        rows = sum(sizes)
        matrix = batch[0].features if len(batch) == 1 else np.concatenate([item.features for item in batch])
        try:
            output = self._infer(matrix)
            output.check(rows)
        except Exception as exc:
            self._count(batch, rows, failed=True)
            for item in batch:
                _deliver(item.done, None, exc)
            return
        self._count(batch, rows, failed=False)
        if len(batch) == 1:
            _deliver(batch[0].done, output, None)
            return
        start = 0
        for item, size in zip(batch, sizes, strict=True):
            _deliver(item.done, _rows_of(output, start, start + size), None)
            start += size

    def _count(self, batch: list[_Pending], rows: int, *, failed: bool) -> None:
        with self._cond:
            self._calls += 1
            self._requests += len(batch)
            self._rows += rows
            self._failed += failed
            self._largest = max(self._largest, len(batch))


def _rows_of(output: ModelOutput, start: int, stop: int) -> ModelOutput:
    probabilities = output.probabilities
    return ModelOutput(
        output.predictions[start:stop],
        None if probabilities is None else probabilities[start:stop],
        output.classes,
    )


def _deliver(done: Done, output: ModelOutput | None, error: BaseException | None) -> None:
    try:
        done(output, error)
    except Exception:  # one caller's bookkeeping must never stop the others' answers
        log.exception("batched request completion failed")
