"""A circuit breaker per model version, with resilience4j's count-based semantics.

- CLOSED: outcomes go into a sliding window of the last `window_size` calls. Once at least
  `minimum_calls` are recorded and the failure rate reaches `failure_rate_threshold`, it opens.
- OPEN: every call is refused until `open_wait_sec` has passed; the next call then moves it to
  HALF_OPEN.
- HALF_OPEN: exactly `half_open_calls` trial calls are let through. When all have reported, it
  closes (failure rate below the threshold, window cleared) or opens again.

Every transition starts a new epoch, and a call reports against the epoch it was admitted in:
an outcome from an earlier epoch is ignored. So a success that started before the breaker opened
can never close it, and a slow failure from before a reset cannot reopen it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

from nba_mcp_deploy.clock import Clock
from nba_mcp_deploy.errors import InvalidInputError


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSettings:
    """The knobs, named as in resilience4j's CircuitBreakerConfig."""

    window_size: int = 100
    minimum_calls: int = 20
    failure_rate_threshold: float = 0.1
    open_wait_sec: float = 30.0
    half_open_calls: int = 5

    def __post_init__(self) -> None:
        if self.window_size < 1:
            raise InvalidInputError("window_size", self.window_size, "must be >= 1")
        if not 1 <= self.minimum_calls <= self.window_size:
            raise InvalidInputError("minimum_calls", self.minimum_calls, "must be in [1, window_size]")
        if not 0 < self.failure_rate_threshold <= 1:
            raise InvalidInputError("failure_rate_threshold", self.failure_rate_threshold, "must be in (0, 1]")
        if not self.open_wait_sec > 0:
            raise InvalidInputError("open_wait_sec", self.open_wait_sec, "must be > 0")
        if self.half_open_calls < 1:
            raise InvalidInputError("half_open_calls", self.half_open_calls, "must be >= 1")


@dataclass(frozen=True)
class Permit:
    """Proof that a call was admitted, and in which epoch."""

    epoch: int


@dataclass(frozen=True)
class BreakerSnapshot:
    """The breaker as health_check reports it."""

    state: BreakerState
    failure_rate: float | None
    calls_in_window: int
    failures_in_window: int
    opened_at: float | None
    retry_at: float | None
    retry_in_sec: float | None
    times_opened: int
    rejected_calls: int


class CircuitBreaker:
    """Thread-safe; `try_acquire` before the call, `record` after it with the permit."""

    def __init__(self, settings: BreakerSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._epoch = 0
        self._state = BreakerState.CLOSED
        self._outcomes = bytearray(settings.window_size)  # 1 = failure
        self._next = 0
        self._count = 0
        self._failures = 0
        self._opened_at_wall: float | None = None
        self._opened_at_mono = 0.0
        self._trial_permits = 0
        self._trial_results = 0
        self._trial_failures = 0
        self._times_opened = 0
        self._rejected = 0

    @property
    def state(self) -> BreakerState:
        with self._lock:
            self._advance_if_wait_over()
            return self._state

    def try_acquire(self) -> Permit | None:
        """A permit for one call, or None when the breaker refuses calls right now."""
        with self._lock:
            if self._state is BreakerState.CLOSED:
                return Permit(self._epoch)
            self._advance_if_wait_over()
            if self._state is BreakerState.HALF_OPEN and self._trial_permits < self._settings.half_open_calls:
                self._trial_permits += 1
                return Permit(self._epoch)
            self._rejected += 1
            return None

    def record(self, permit: Permit, success: bool) -> None:
        """Report the outcome of an admitted call; outcomes from an earlier epoch are ignored."""
        with self._lock:
            if permit.epoch != self._epoch:
                return
            if self._state is BreakerState.CLOSED:
                self._record_closed(failed=not success)
            elif self._state is BreakerState.HALF_OPEN:
                self._record_trial(failed=not success)

    def reset(self) -> None:
        """Close the breaker and forget its window (an operator fixed the cause)."""
        with self._lock:
            self._transition(BreakerState.CLOSED)

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when not open)."""
        with self._lock:
            if self._state is not BreakerState.OPEN:
                return 0.0
            return max(0.0, self._opened_at_mono + self._settings.open_wait_sec - self._clock.monotonic())

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            self._advance_if_wait_over()
            retry_in = None
            retry_at = None
            if self._state is BreakerState.OPEN and self._opened_at_wall is not None:
                retry_in = max(0.0, self._opened_at_mono + self._settings.open_wait_sec - self._clock.monotonic())
                retry_at = self._clock.now() + retry_in
            if self._state is BreakerState.HALF_OPEN:
                calls, failures = self._trial_results, self._trial_failures
            else:
                calls, failures = self._count, self._failures
            return BreakerSnapshot(
                state=self._state,
                failure_rate=(failures / calls) if calls else None,
                calls_in_window=calls,
                failures_in_window=failures,
                opened_at=self._opened_at_wall if self._state is not BreakerState.CLOSED else None,
                retry_at=retry_at,
                retry_in_sec=retry_in,
                times_opened=self._times_opened,
                rejected_calls=self._rejected,
            )

    # -- state machine (called with the lock held) -------------------------------------------

    def _advance_if_wait_over(self) -> None:
        if (
            self._state is BreakerState.OPEN
            and self._clock.monotonic() >= self._opened_at_mono + self._settings.open_wait_sec
        ):
            self._transition(BreakerState.HALF_OPEN)

    def _record_closed(self, *, failed: bool) -> None:
        size = self._settings.window_size
        if self._count == size:
            self._failures -= self._outcomes[self._next]
        else:
            self._count += 1
        self._outcomes[self._next] = 1 if failed else 0
        self._failures += 1 if failed else 0
        self._next = (self._next + 1) % size
        if (
            self._count >= self._settings.minimum_calls
            and self._failures / self._count >= self._settings.failure_rate_threshold
        ):
            self._transition(BreakerState.OPEN)

    def _record_trial(self, *, failed: bool) -> None:
        self._trial_results += 1
        self._trial_failures += 1 if failed else 0
        if self._trial_results >= self._settings.half_open_calls:
            rate = self._trial_failures / self._trial_results
            self._transition(
                BreakerState.OPEN if rate >= self._settings.failure_rate_threshold else BreakerState.CLOSED
            )

    def _transition(self, state: BreakerState) -> None:
        self._epoch += 1
        self._state = state
        self._trial_permits = self._trial_results = self._trial_failures = 0
        if state is BreakerState.OPEN:
            self._times_opened += 1
            self._opened_at_wall = self._clock.now()
            self._opened_at_mono = self._clock.monotonic()
        elif state is BreakerState.CLOSED:
            self._outcomes = bytearray(self._settings.window_size)
            self._next = self._count = self._failures = 0
            self._opened_at_wall = None
