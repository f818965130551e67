"""Circuit breakers: open on a failing majority, stay open, probe once, close on the probe."""

from __future__ import annotations

from mangaassist.llm.breaker import BreakerPolicy, BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, **policy: float) -> CircuitBreaker:
    fields = {"failures": 5, "window_s": 30.0, "open_s": 15.0, "failure_ratio": 0.5, **policy}
    return CircuitBreaker(BreakerPolicy(**fields), clock)  # type: ignore[arg-type]


def state(b: CircuitBreaker) -> BreakerState:
    return b.state  # through a call, so mypy does not narrow it between checks


def call(b: CircuitBreaker, ok: bool) -> None:
    assert b.allow()
    if ok:
        b.record_success()
    else:
        b.record_failure()


def test_a_model_failing_a_third_of_its_calls_stays_in_use() -> None:
    clock = Clock()
    b = breaker(clock)
    for i in range(300):
        clock.now += 0.1
        call(b, ok=i % 3 != 0)
    assert state(b) == BreakerState.CLOSED


def test_a_failing_majority_opens_the_breaker_once_enough_calls_failed() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(4):
        call(b, ok=False)
    assert state(b) == BreakerState.CLOSED  # 4 failures: fewer than 5
    call(b, ok=False)
    assert state(b) == BreakerState.OPEN
    assert not b.allow()


def test_fast_failures_do_not_outvote_slow_calls_still_under_way() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(32):
        assert b.allow()  # 32 answers in flight
    for _ in range(6):
        b.record_failure()  # 429s come back first; the successes take a second
    assert state(b) == BreakerState.CLOSED


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(4):
        call(b, ok=False)
    clock.now += 31
    call(b, ok=False)
    assert state(b) == BreakerState.CLOSED


def test_a_call_started_before_the_breaker_opened_does_not_close_it() -> None:
    clock = Clock()
    b = breaker(clock)
    assert b.allow()  # call A starts
    for _ in range(5):
        call(b, ok=False)
    assert state(b) == BreakerState.OPEN
    b.record_success()  # A ends well, but it started before the opening
    assert state(b) == BreakerState.OPEN
    b.record_failure()  # nor does a late failure extend the open period
    clock.now += 15
    assert state(b) == BreakerState.HALF_OPEN


def test_one_probe_at_a_time_and_its_verdict_decides() -> None:
    clock = Clock()
    b = breaker(clock)
    for _ in range(5):
        call(b, ok=False)
    clock.now += 15
    assert b.allow()  # the probe
    assert not b.allow()  # a second call waits for its verdict
    b.record_failure()
    assert state(b) == BreakerState.OPEN
    clock.now += 15
    assert b.allow()
    b.release()  # the probe was cancelled: another may be made
    assert b.allow()
    b.record_success()
    assert state(b) == BreakerState.CLOSED
    call(b, ok=False)
    assert state(b) == BreakerState.CLOSED  # the earlier failures were forgotten
