"""Helpers of the queue conformance suite: a fake clock, and a queue client in another process.

A child runs as ``python -m tests.integration.queue_fixtures BACKEND ARGS... -- COMMAND ARGS...``:
it opens the backend, prints ``ready``, waits for a line on stdin, runs the command, prints the
message ids it got one per line and then ``done``, and waits for stdin to close. A test can
SIGKILL it after ``done`` while it still holds the queues open, like a worker that crashed.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from mangaassist.queues.base import QueueBackend

__all__ = ["Child", "FakeClock", "open_backend"]

ROOT = Path(__file__).resolve().parents[2]
#: Longest a child may take to start or to answer (a cold interpreter start included).
CHILD_TIMEOUT_S = 15.0


class FakeClock:
    """A clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def open_backend(spec: Sequence[str]) -> QueueBackend:
    """The backend a child process uses: ``NAME ARGS...``, opened by
    ``tests.integration.queue_backends.NAME.open_child(ARGS)``."""
    name, *args = spec
    module = importlib.import_module(f"tests.integration.queue_backends.{name}")
    backend: QueueBackend = module.open_child(args)
    return backend


async def _run(backend: QueueBackend, command: Sequence[str]) -> list[str]:
    verb, queue, *args = command
    if verb == "send":  # send BODY
        return [await backend.send(queue, args[0])]
    if verb == "receive":  # receive VISIBILITY_S: one receive of up to 10 messages
        received = await backend.receive(
            queue, max_messages=10, visibility_timeout_s=float(args[0])
        )
        return [message.message_id for message in received]
    if verb == "drain":  # drain: receive (never delete) until a receive comes back empty
        ids: list[str] = []
        while batch := await backend.receive(queue, max_messages=2, visibility_timeout_s=600):
            ids.extend(message.message_id for message in batch)
        return ids
    raise ValueError(f"unknown child command {verb!r}")


async def _child(spec: Sequence[str], command: Sequence[str]) -> None:
    backend = open_backend(spec)
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    for line in await _run(backend, command):
        print(line)
    print("done", flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await backend.close()


class Child:
    """A child process running one queue command (see the module docstring)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(cls, spec: Sequence[str], *command: str) -> Child:
        """Start the child and wait until it has opened the backend."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.queue_fixtures",
            *spec,
            "--",
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        child = cls(process)
        assert await child._line() == "ready"
        return child

    async def _line(self) -> str:
        assert self._process.stdout is not None
        async with asyncio.timeout(CHILD_TIMEOUT_S):
            line = await self._process.stdout.readline()
        if not line:
            raise AssertionError(f"the child exited early (status {await self._process.wait()})")
        return line.decode().strip()

    async def run(self) -> list[str]:
        """Let the child run its command; the message ids it printed."""
        assert self._process.stdin is not None
        self._process.stdin.write(b"go\n")
        await self._process.stdin.drain()
        lines: list[str] = []
        while (line := await self._line()) != "done":
            lines.append(line)
        return lines

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs in the child."""
        self._process.kill()
        async with asyncio.timeout(CHILD_TIMEOUT_S):
            await self._process.communicate()

    async def finish(self) -> None:
        """Close its stdin, so it closes the backend and exits."""
        assert self._process.stdin is not None
        self._process.stdin.close()
        async with asyncio.timeout(CHILD_TIMEOUT_S):
            await self._process.communicate()
        assert self._process.returncode == 0


if __name__ == "__main__":
    separator = sys.argv.index("--")
    asyncio.run(_child(sys.argv[1:separator], sys.argv[separator + 1 :]))
