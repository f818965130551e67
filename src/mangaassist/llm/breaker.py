"""Circuit breakers: stop calling a model that keeps failing, and probe it again later.

A breaker is closed (calls flow) until, within ``window_s``, at least ``failures`` calls failed
and they are at least ``failure_ratio`` of the calls started (a model failing 30% of calls is
up, and the router's retries and fallbacks handle it; one failing most calls is down). It then
opens and the router skips the model, going straight to the next of the chain, instead of
spending a customer's deadline on a model that is down. After ``open_s`` one call is let through
as a probe (half-open): its success closes the breaker, its failure opens it for another
``open_s``. Calls that were already under way when the breaker opened do not end the open
period. Only failures that say something about the model's health count (throttling, timeouts,
5xx, broken responses, rejected credentials); a refused request does not.

Breakers live in one process; each API process learns a model's health from its own calls.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BreakerBoard", "BreakerPolicy", "BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where a breaker is; the metric reports closed 0, half-open 1, open 2."""

    CLOSED = "closed"
    HALF_OPEN = "half_open"
    OPEN = "open"


STATE_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """When a breaker opens and how long it stays open."""

    failures: int = 5
    window_s: float = 30.0
    open_s: float = 15.0
    failure_ratio: float = 0.5


class CircuitBreaker:
    """One model's breaker; see the module docstring."""

    def __init__(
        self,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._on_change = on_change
        #: Start times of the calls and times of the failures within the window, oldest first.
        #: Failures are measured against calls started, not finished: right after the breaker
        #: closes, fast failures (429s) finish before slow successes and would look like all.
        self._started: deque[float] = deque()
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._state = BreakerState.CLOSED
        self._probing = False

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose time is up reads half-open)."""
        if self._state == BreakerState.OPEN and self._clock() - self._opened_at >= (
            self._policy.open_s
        ):
            return BreakerState.HALF_OPEN
        return self._state

    def allow(self) -> bool:
        """May a call be made now? In half-open state only one call (the probe) at a time."""
        state = self.state
        if state == BreakerState.CLOSED:
            self._started.append(self._clock())
            return True
        if state == BreakerState.OPEN or self._probing:
            return False
        self._set(BreakerState.HALF_OPEN)
        self._probing = True
        return True

    def record_success(self) -> None:
        """A call succeeded: a probe closes the breaker (other calls change nothing)."""
        if self._probing:
            self._probing = False
            self._forget()
            self._set(BreakerState.CLOSED)

    def record_failure(self) -> None:
        """A call failed in a way that counts (see the module docstring)."""
        now = self._clock()
        if self._probing:
            self._open(now)
        elif self._state == BreakerState.CLOSED:
            self._failures.append(now)
            for times in (self._started, self._failures):
                while times and now - times[0] > self._policy.window_s:
                    times.popleft()
            failed = len(self._failures)
            enough = failed >= self._policy.failures
            majority = failed >= self._policy.failure_ratio * len(self._started)
            if enough and majority:
                self._open(now)

    def release(self) -> None:
        """A call ended without a verdict (cancelled, or refused as invalid): a probe it was
        may be made again."""
        self._probing = False

    def _forget(self) -> None:
        self._started.clear()
        self._failures.clear()

    def _open(self, now: float) -> None:
        self._probing = False
        self._forget()
        self._opened_at = now
        self._set(BreakerState.OPEN)

    def _set(self, state: BreakerState) -> None:
        if state != self._state:
            self._state = state
            if self._on_change is not None:
                self._on_change(state)


class BreakerBoard:
    """The breakers of every model, created on first use."""

    def __init__(
        self,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, BreakerState], None] | None = None,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._on_change = on_change
        self._breakers: dict[str, CircuitBreaker] = {}

    def __getitem__(self, model_key: str) -> CircuitBreaker:
        breaker = self._breakers.get(model_key)
        if breaker is None:
            notify = self._on_change

            def changed(state: BreakerState) -> None:
                if notify is not None:
                    notify(model_key, state)

            breaker = CircuitBreaker(self._policy, self._clock, changed)
            self._breakers[model_key] = breaker
        return breaker

    def states(self) -> dict[str, BreakerState]:
        """Every known model's breaker state."""
        return {key: breaker.state for key, breaker in self._breakers.items()}
