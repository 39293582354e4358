"""The circuit breaker's state machine, driven with a manual clock (no sleeping)."""

from __future__ import annotations

import pytest

from nba_mcp_deploy.clock import ManualClock
from nba_mcp_deploy.errors import InvalidInputError
from nba_mcp_deploy.serving.breaker import BreakerSettings, BreakerState, CircuitBreaker

SETTINGS = BreakerSettings(
    window_size=10, minimum_calls=5, failure_rate_threshold=0.5, open_wait_sec=30, half_open_calls=3
)


def make(clock: ManualClock, settings: BreakerSettings = SETTINGS) -> CircuitBreaker:
    return CircuitBreaker(settings, clock)


def call(breaker: CircuitBreaker, success: bool) -> bool:
    """One call through the breaker; False when it was refused."""
    permit = breaker.try_acquire()
    if permit is None:
        return False
    breaker.record(permit, success)
    return True


def open_it(breaker: CircuitBreaker) -> None:
    for _ in range(SETTINGS.minimum_calls):
        call(breaker, False)
    assert breaker.state is BreakerState.OPEN


def test_does_not_trip_before_minimum_calls(clock: ManualClock) -> None:
    breaker = make(clock)
    for _ in range(SETTINGS.minimum_calls - 1):
        assert call(breaker, False)
    assert breaker.state is BreakerState.CLOSED
    assert call(breaker, False)
    assert breaker.state is BreakerState.OPEN


def test_trips_exactly_at_the_failure_rate_threshold(clock: ManualClock) -> None:
    breaker = make(clock)
    for success in (True, True, True, False, False):  # 2/5 = 40% < 50%
        call(breaker, success)
    assert breaker.state is BreakerState.CLOSED
    call(breaker, False)  # 3/6 = 50% >= 50%
    assert breaker.state is BreakerState.OPEN
    snap = breaker.snapshot()
    assert snap.times_opened == 1
    assert snap.retry_in_sec == pytest.approx(30)


def test_window_slides_old_failures_out(clock: ManualClock) -> None:
    breaker = make(clock, BreakerSettings(window_size=4, minimum_calls=4, failure_rate_threshold=0.75))
    for success in (False, False, True, True):  # 50%
        call(breaker, success)
    call(breaker, True)  # window F,T,T,T: the first failure slid out
    call(breaker, False)  # window T,T,T,F: the second slid out, this one came in
    snap = breaker.snapshot()
    assert snap.calls_in_window == 4
    assert snap.failures_in_window == 1
    assert breaker.state is BreakerState.CLOSED


def test_open_refuses_until_wait_then_half_open_admits_exactly_n(clock: ManualClock) -> None:
    breaker = make(clock)
    open_it(breaker)
    assert breaker.try_acquire() is None
    clock.advance(29.9)
    assert breaker.try_acquire() is None
    clock.advance(0.2)
    permits = [breaker.try_acquire() for _ in range(SETTINGS.half_open_calls)]
    assert all(p is not None for p in permits)
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.try_acquire() is None  # only N trial calls
    assert breaker.snapshot().rejected_calls == 3


def test_half_open_closes_when_trials_succeed(clock: ManualClock) -> None:
    breaker = make(clock)
    open_it(breaker)
    clock.advance(30)
    for _ in range(SETTINGS.half_open_calls):
        assert call(breaker, True)
    assert breaker.state is BreakerState.CLOSED
    snap = breaker.snapshot()
    assert snap.calls_in_window == 0  # a fresh window after closing


def test_half_open_reopens_when_trials_fail(clock: ManualClock) -> None:
    breaker = make(clock)
    open_it(breaker)
    clock.advance(30)
    call(breaker, True)
    call(breaker, False)
    call(breaker, False)  # 2/3 failed >= 50%
    assert breaker.state is BreakerState.OPEN
    assert breaker.snapshot().times_opened == 2
    assert breaker.try_acquire() is None


def test_a_success_that_started_before_opening_never_closes_it(clock: ManualClock) -> None:
    breaker = make(clock)
    slow = breaker.try_acquire()  # admitted while closed, still running
    assert slow is not None
    open_it(breaker)
    breaker.record(slow, True)  # arrives late
    assert breaker.state is BreakerState.OPEN
    clock.advance(30)
    trial = breaker.try_acquire()
    assert trial is not None
    breaker.record(slow, True)  # still the old epoch: does not count as a trial
    assert breaker.snapshot().calls_in_window == 0
    breaker.record(trial, True)
    assert breaker.snapshot().calls_in_window == 1


def test_a_late_failure_from_before_a_reset_is_ignored(clock: ManualClock) -> None:
    breaker = make(clock)
    late = breaker.try_acquire()
    assert late is not None
    open_it(breaker)
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED
    breaker.record(late, False)
    assert breaker.snapshot().failures_in_window == 0


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("window_size", {"window_size": 0}),
        ("minimum_calls", {"minimum_calls": 11, "window_size": 10}),
        ("failure_rate_threshold", {"failure_rate_threshold": 0}),
        ("failure_rate_threshold", {"failure_rate_threshold": 1.5}),
        ("open_wait_sec", {"open_wait_sec": 0}),
        ("half_open_calls", {"half_open_calls": 0}),
    ],
)
def test_settings_are_validated(field: str, kwargs: dict[str, float]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        BreakerSettings(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field
