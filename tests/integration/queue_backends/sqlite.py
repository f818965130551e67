"""SqliteQueue in the conformance suite: a file under the test's tmp_path and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from mangaassist.queues.base import QueueBackend
from mangaassist.queues.sqlite import SqliteQueue
from tests.integration.queue_backends import ChildSpec, Clients, Elapse
from tests.integration.queue_fixtures import FakeClock

__all__ = [
    "clock",
    "open_child",
    "sqlite_child_spec",
    "sqlite_clients",
    "sqlite_elapse",
    "sqlite_path",
    "sqlite_queue",
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "queues.db"


@pytest.fixture
async def sqlite_clients(sqlite_path: Path, clock: FakeClock) -> AsyncIterator[Clients]:
    made: list[SqliteQueue] = []

    def make() -> QueueBackend:
        made.append(SqliteQueue(f"sqlite:///{sqlite_path}", clock=clock))
        return made[-1]

    yield make
    for queue in made:
        await queue.close()


@pytest.fixture
def sqlite_queue(sqlite_clients: Clients) -> QueueBackend:
    return sqlite_clients()


@pytest.fixture
def sqlite_elapse(clock: FakeClock) -> Elapse:
    async def elapse(seconds: float) -> None:
        clock.advance(seconds)

    return elapse


@pytest.fixture
def sqlite_child_spec(sqlite_path: Path, clock: FakeClock) -> ChildSpec:
    return lambda: ["sqlite", str(sqlite_path), repr(clock.now)]


def open_child(args: Sequence[str]) -> QueueBackend:
    """``PATH NOW``: the file, with a clock stopped at NOW (the test's fake time)."""
    path, now = args
    stopped = float(now)
    return SqliteQueue(path, clock=lambda: stopped)
