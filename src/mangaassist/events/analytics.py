"""The analytics sink: every event, one JSON line each, appended to a local JSON Lines file.

``AnalyticsSink.handle`` is the ``analytics`` handler target (the design documents' catch-all
rule sends it every ``mangaassist.*`` event). Each line is the EventBridge envelope
(``Event.to_dict``) plus ``receivedAt``, UTF-8 with Japanese kept as text.

``JsonLinesWriter`` does the writing, here and for the moderators' inbox:

- **One writer, whole lines.** Callers queue encoded lines; one drain task per event loop writes
  everything queued so far as one ``write`` in a worker thread (group commit), so thousands of
  events per second cost a handful of system calls, the event loop never blocks on the disk,
  and lines never interleave. The file is opened with ``O_APPEND`` for every batch, so several
  processes may share it (Linux appends one ``write`` whole) and an external rotation
  (rename, then a new file) is followed at the next batch.
- **Durability.** ``append`` returns once its lines are in the operating system's page cache: a
  crash of this process loses nothing it confirmed. ``fsync=True`` also waits for the disk
  (one ``fsync`` per batch), so a power loss loses nothing either; the analytics sink leaves it
  off (a lost second of analytics is cheaper than the fsync), the moderators' inbox turns it on.
  A line torn by a crash mid-write is closed with a newline before the next batch, so it spoils
  only itself.
- **At-least-once.** A handler target is retried when it fails, and a write may succeed after
  its caller timed out, so an event can appear twice: every line carries the event ``id``, and
  readers drop repeated ids (``moderation.read_cases`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mangaassist.events.envelope import Event

__all__ = [
    "MAX_BATCH_BYTES",
    "USAGE_FILE",
    "AnalyticsSink",
    "JsonLinesWriter",
    "UsageLedger",
    "json_line",
    "received_at",
]

#: The usage ledger's file in the data folder.
USAGE_FILE = "usage.jsonl"
#: Most bytes one ``write`` takes; a larger backlog goes out in several batches.
MAX_BATCH_BYTES = 1 << 20
_FILE_MODE = 0o640
#: Encoded lines, how many records they hold, and the future their caller awaits.
_Pending = tuple[bytes, int, "asyncio.Future[None]"]
_OPEN_FLAGS = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)


def json_line(record: Mapping[str, Any]) -> bytes:
    """One record as a compact JSON line (UTF-8, Japanese as text); ``ValueError`` for values
    JSON cannot hold (NaN, infinity) and ``TypeError`` for other types."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode() + b"\n"


class JsonLinesWriter:
    """Appends records to one JSON Lines file; see the module docstring for the guarantees."""

    def __init__(self, path: Path, *, fsync: bool = False) -> None:
        self.path = path
        self.fsync = fsync
        #: Lines and batches written so far (tests, benchmarks, logs).
        self.lines_written = 0
        self.batches_written = 0
        self._pending: list[_Pending] = []
        self._drainer: asyncio.Task[None] | None = None
        # Guards the file across threads, should two event loops share this writer.
        self._file_lock = threading.Lock()

    async def append(self, *records: Mapping[str, Any]) -> None:
        """Append ``records`` as consecutive lines; returns once they are written, raises
        ``OSError`` when the write failed (the caller retries) and ``ValueError``/``TypeError``
        for a record that is not JSON (before anything is written)."""
        if not records:
            return
        data = b"".join(json_line(record) for record in records)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((data, len(records), done))
        drainer = self._drainer
        if drainer is None or drainer.done() or drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        # A caller that gives up waiting (a job timeout) cancels only its future: the lines are
        # queued and go out with their batch all the same.
        await done

    async def close(self) -> None:
        """Wait until everything queued is written."""
        drainer = self._drainer
        if drainer is not None and not drainer.done():
            with contextlib.suppress(Exception):
                await drainer

    async def _drain(self) -> None:
        while self._pending:
            batch = self._take_batch()
            try:
                await asyncio.to_thread(self._write, b"".join(data for data, _, _ in batch))
            except Exception as exc:
                _settle(batch, exc)
                continue
            except BaseException:  # the loop is shutting down: nobody is left to write
                stopped = OSError("the writer was stopped before writing these lines")
                _settle(batch + self._pending, stopped)
                self._pending = []
                raise
            self.batches_written += 1
            self.lines_written += sum(count for _, count, _ in batch)
            _settle(batch, None)

    def _take_batch(self) -> list[_Pending]:
        size = 0
        for taken, (data, _, _) in enumerate(self._pending):
            size += len(data)
            if size > MAX_BATCH_BYTES and taken:
                batch, self._pending = self._pending[:taken], self._pending[taken:]
                return batch
        batch, self._pending = self._pending, []
        return batch

    def _write(self, data: bytes) -> None:
        """Append ``data`` with one ``write`` (in a worker thread)."""
        with self._file_lock:
            try:
                fd = os.open(self.path, _OPEN_FLAGS, _FILE_MODE)
            except FileNotFoundError:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, _OPEN_FLAGS, _FILE_MODE)
            try:
                if os.lseek(fd, 0, os.SEEK_END) > 0:
                    os.lseek(fd, -1, os.SEEK_END)
                    if os.read(fd, 1) != b"\n":  # a line torn by a crash: end it first
                        data = b"\n" + data
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)


def _settle(batch: list[_Pending], failure: Exception | None) -> None:
    for _, _, done in batch:
        if done.done():  # its caller stopped waiting
            continue
        if failure is None:
            done.set_result(None)
        else:
            done.set_exception(failure)


def received_at(moment: datetime) -> str:
    """``receivedAt``: UTC with milliseconds and ``Z`` (``2026-11-22T09:30:00.123Z``)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AnalyticsSink:
    """The ``analytics`` handler: appends each event it receives to ``path`` as one line."""

    def __init__(
        self,
        path: Path,
        *,
        fsync: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.writer = JsonLinesWriter(path, fsync=fsync)
        self._clock = clock

    @property
    def path(self) -> Path:
        """The JSON Lines file."""
        return self.writer.path

    async def handle(self, event: Event, target_input: Any) -> None:
        """Append ``event`` (the envelope plus ``receivedAt``); an ``OSError`` (a full disk)
        propagates so the delivery is retried. The target input is not used: the sink keeps
        the whole event, whatever a rule's transformer would hand other targets."""
        record = event.to_dict()
        record["receivedAt"] = received_at(self._clock())
        await self.writer.append(record)

    async def close(self) -> None:
        """Wait for queued lines to be written."""
        await self.writer.close()


class UsageLedger:
    """The ``usage_ledger`` handler: one line per answer, the rule's transformed input (model,
    tokens, cost, latency) plus the event id, for cost reports that sum a small file instead of
    scanning every event."""

    def __init__(self, path: Path) -> None:
        self.writer = JsonLinesWriter(path)

    async def handle(self, event: Event, target_input: Any) -> None:
        """Append the usage record; a non-object input is kept under ``input``."""
        record = dict(target_input) if isinstance(target_input, dict) else {"input": target_input}
        record["eventId"] = event.id
        await self.writer.append(record)

    async def close(self) -> None:
        """Wait for queued lines to be written."""
        await self.writer.close()
