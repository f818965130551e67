"""Deadlines, not timeouts: a request carries the time it has left and every stage asks it."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Deadline"]


class Deadline:
    """A point in time by which an answer is due.

    Stages ask ``remaining()`` or ``allows(expected_s)`` before starting work and degrade (skip a
    step, cheaper model, catalog-only answer) rather than overrun. The clock is injectable so that
    tests can move time without sleeping.
    """

    def __init__(self, budget_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._expires = self._started + budget_s

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self._expires - self._clock())

    def elapsed(self) -> float:
        """Seconds since the deadline was set."""
        return self._clock() - self._started

    @property
    def expired(self) -> bool:
        """True once no time is left."""
        return self.remaining() <= 0.0

    def allows(self, expected_s: float) -> bool:
        """True when a step expected to take ``expected_s`` would finish in time."""
        return self.remaining() >= expected_s

    def capped(self, max_s: float) -> Deadline:
        """A deadline for one stage: at most ``max_s`` from now and never past this one."""
        return Deadline(min(self.remaining(), max_s), self._clock)
