"""SqsQueue in the conformance suite: a moto server, and a queue-name prefix per test.

Queue names are global in the server, so each test's queues carry a prefix of their own (the
``prefix`` of the URL) and never meet another test's. Moto keeps time with the real clock:
``sqs_elapse`` sleeps, and skips a test that would have to wait longer than a test should.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest

from mangaassist.queues.base import QueueBackend
from mangaassist.queues.sqs import SqsQueue
from tests.integration.queue_backends import ChildSpec, Clients, Elapse
from tests.moto_server import MotoServer, moto_server

__all__ = [
    "moto_server",
    "open_child",
    "sqs_child_spec",
    "sqs_clients",
    "sqs_elapse",
    "sqs_queue",
    "sqs_url",
]

#: The longest real wait a test may ask for; longer ones (retention, the 5-minute FIFO
#: deduplication window) skip on SQS instead of making the suite slow.
MAX_REAL_WAIT_S = 10.0
#: Added to every wait: moto compares times in milliseconds against the request's arrival.
WAIT_MARGIN_S = 0.05


@pytest.fixture
def sqs_url(moto_server: MotoServer) -> str:
    """The server, with a prefix no other test uses."""
    return moto_server.sqs_url(prefix=f"t{uuid.uuid4().hex[:12]}-")


@pytest.fixture
async def sqs_clients(sqs_url: str) -> AsyncIterator[Clients]:
    made: list[SqsQueue] = []

    def make() -> QueueBackend:
        made.append(SqsQueue(sqs_url))
        return made[-1]

    yield make
    for queue in made:
        await queue.close()


@pytest.fixture
def sqs_queue(sqs_clients: Clients) -> QueueBackend:
    return sqs_clients()


@pytest.fixture
def sqs_elapse() -> Elapse:
    async def elapse(seconds: float) -> None:
        if seconds > MAX_REAL_WAIT_S:
            pytest.skip(
                f"needs {seconds:g} s to pass on a server with a real clock "
                f"(the suite waits at most {MAX_REAL_WAIT_S:g} s)"
            )
        await asyncio.sleep(seconds + WAIT_MARGIN_S)

    return elapse


@pytest.fixture
def sqs_child_spec(sqs_url: str) -> ChildSpec:
    return lambda: ["sqs", sqs_url]


def open_child(args: Sequence[str]) -> QueueBackend:
    """``URL``: the same server and prefix as the test."""
    [url] = args
    return SqsQueue(url)
