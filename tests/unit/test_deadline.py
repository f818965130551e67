"""A request's deadline tells every stage how long it has left, on a clock tests can move."""

from __future__ import annotations

import pytest

from mangaassist.domain.deadline import Deadline


class FakeClock:
    """A monotonic clock that only moves when the test says so."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def test_a_fresh_deadline_has_its_whole_budget(clock: FakeClock) -> None:
    deadline = Deadline(5.0, clock)

    assert deadline.remaining() == pytest.approx(5.0)
    assert deadline.elapsed() == pytest.approx(0.0)
    assert not deadline.expired


def test_remaining_and_elapsed_follow_the_clock(clock: FakeClock) -> None:
    deadline = Deadline(5.0, clock)

    clock.advance(1.5)

    assert deadline.remaining() == pytest.approx(3.5)
    assert deadline.elapsed() == pytest.approx(1.5)
    assert not deadline.expired


def test_remaining_is_never_negative_after_the_deadline(clock: FakeClock) -> None:
    deadline = Deadline(2.0, clock)

    clock.advance(10.0)

    assert deadline.remaining() == 0.0
    assert deadline.expired
    assert deadline.elapsed() == pytest.approx(10.0)


def test_expires_exactly_when_the_budget_is_used_up(clock: FakeClock) -> None:
    deadline = Deadline(2.0, clock)

    clock.advance(1.999)
    assert not deadline.expired

    clock.advance(0.001)
    assert deadline.expired


def test_a_zero_budget_is_expired_at_once(clock: FakeClock) -> None:
    assert Deadline(0.0, clock).expired


def test_allows_a_step_only_when_it_would_finish_in_time(clock: FakeClock) -> None:
    deadline = Deadline(3.0, clock)
    clock.advance(1.0)

    assert deadline.allows(1.0)
    assert deadline.allows(2.0)  # exactly the time left is still in time
    assert not deadline.allows(2.01)


def test_an_expired_deadline_allows_only_free_steps(clock: FakeClock) -> None:
    deadline = Deadline(1.0, clock)
    clock.advance(5.0)

    assert deadline.allows(0.0)
    assert not deadline.allows(0.001)


def test_capped_limits_a_stage_to_its_own_maximum(clock: FakeClock) -> None:
    parent = Deadline(10.0, clock)

    stage = parent.capped(2.0)

    assert stage.remaining() == pytest.approx(2.0)
    clock.advance(2.5)
    assert stage.expired
    assert not parent.expired
    assert parent.remaining() == pytest.approx(7.5)


def test_capped_never_extends_past_the_parent(clock: FakeClock) -> None:
    parent = Deadline(3.0, clock)
    clock.advance(2.0)

    stage = parent.capped(30.0)

    assert stage.remaining() == pytest.approx(1.0)
    clock.advance(1.0)
    assert parent.expired
    assert stage.expired


def test_capped_from_an_expired_parent_is_expired(clock: FakeClock) -> None:
    parent = Deadline(1.0, clock)
    clock.advance(4.0)

    assert parent.capped(5.0).expired


def test_capped_stage_counts_elapsed_from_when_it_was_made(clock: FakeClock) -> None:
    parent = Deadline(10.0, clock)
    clock.advance(4.0)

    stage = parent.capped(5.0)
    clock.advance(1.0)

    assert stage.elapsed() == pytest.approx(1.0)
    assert parent.elapsed() == pytest.approx(5.0)
