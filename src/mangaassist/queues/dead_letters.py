"""Looking into dead-letter queues and acting on what is there, with filters.

A message reaches a dead-letter queue two ways: the worker parks a permanent failure there at
once (attributes ``dlq.source``, ``dlq.failure``, ``dlq.reason``, ``dlq.kind``), or the queue's
redrive policy moves it after too many receives (``dlq.source`` and ``dlq.receive_count``).
``DeadLetters`` reads both the same way.

Queues have SQS semantics, so there is no peeking: a scan receives messages and holds them
hidden while it looks, then releases the ones it leaves (visibility back to zero). If the scan
dies, they come back by themselves after ``hold_s``. In a FIFO dead-letter queue a held message
hides the rest of its group, so a filtered scan sees the first message of each group.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from mangaassist.queues.base import (
    DLQ_ATTRIBUTE_PREFIX,
    QueueBackend,
    QueueError,
    ReceivedMessage,
)

__all__ = ["DeadLetter", "DeadLetterFilter", "DeadLetters"]

#: What a message moved by the redrive policy (not by the worker) failed with.
MAX_RECEIVES_FAILURE = "max_receives"


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One message in a dead-letter queue, as an operator reads it."""

    message_id: str
    queue: str
    body: str
    kind: str
    failure: str
    reason: str
    source: str | None
    sent_at: datetime
    receives: int
    group_id: str | None
    attributes: Mapping[str, str]

    def age_s(self, now: float) -> float:
        """Seconds since the message was first sent."""
        return max(0.0, now - self.sent_at.timestamp())

    @classmethod
    def of(cls, queue: str, message: ReceivedMessage) -> DeadLetter:
        attributes = message.attributes
        receives = attributes.get(f"{DLQ_ATTRIBUTE_PREFIX}receive_count")
        failure = attributes.get(f"{DLQ_ATTRIBUTE_PREFIX}failure", MAX_RECEIVES_FAILURE)
        reason = attributes.get(f"{DLQ_ATTRIBUTE_PREFIX}reason") or (
            f"received {receives or 'too many'} times without being deleted"
        )
        return cls(
            message_id=message.message_id,
            queue=queue,
            body=message.body,
            kind=attributes.get(f"{DLQ_ATTRIBUTE_PREFIX}kind") or _kind_of(message.body),
            failure=failure,
            reason=reason,
            source=attributes.get(f"{DLQ_ATTRIBUTE_PREFIX}source"),
            sent_at=message.sent_at,
            receives=int(receives) if receives and receives.isdigit() else 0,
            group_id=message.group_id,
            attributes=attributes,
        )


def _kind_of(body: str) -> str:
    try:
        kind = json.loads(body).get("kind")
    except (ValueError, AttributeError):
        return "?"
    return kind if isinstance(kind, str) else "?"


@dataclass(frozen=True, slots=True)
class DeadLetterFilter:
    """Which dead letters an operation applies to; None matches anything."""

    kind: str | None = None
    failure: str | None = None
    older_than_s: float | None = None
    newer_than_s: float | None = None
    message_ids: frozenset[str] | None = None

    def matches(self, letter: DeadLetter, now: float) -> bool:
        """True when ``letter`` passes every given condition."""
        age = letter.age_s(now)
        return (
            (self.kind is None or letter.kind == self.kind)
            and (self.failure is None or letter.failure == self.failure)
            and (self.older_than_s is None or age >= self.older_than_s)
            and (self.newer_than_s is None or age < self.newer_than_s)
            and (self.message_ids is None or letter.message_id in self.message_ids)
        )

    @property
    def everything(self) -> bool:
        """True when nothing is filtered out."""
        return self == DeadLetterFilter()


class DeadLetters:
    """List, redrive and purge the messages of dead-letter queues."""

    def __init__(
        self,
        backend: QueueBackend,
        *,
        hold_s: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._backend = backend
        self._hold_s = hold_s
        self._clock = clock

    async def find(
        self, queue: str, where: DeadLetterFilter, *, limit: int | None = None
    ) -> list[DeadLetter]:
        """The matching dead letters (up to ``limit``); every message stays where it is."""
        found: list[DeadLetter] = []
        held: list[ReceivedMessage] = []
        try:
            async for message in self._scan(queue, held):
                letter = DeadLetter.of(queue, message)
                if where.matches(letter, self._clock()):
                    found.append(letter)
                    if limit is not None and len(found) >= limit:
                        break
        finally:
            await self._release(queue, held)
        return found

    async def redrive(
        self,
        queue: str,
        where: DeadLetterFilter,
        *,
        to: str | None = None,
        limit: int | None = None,
    ) -> dict[str, int]:
        """Send matching dead letters back to ``to``, or each to the queue it came from, as
        they were first sent (``dlq.`` attributes removed); returns how many went where."""
        if to is None and where.everything and limit is None:
            sources = {letter.source for letter in await self.find(queue, where, limit=1)}
            if len(sources) == 1 and None not in sources:  # one source: the backend moves all
                [source] = sources
                assert source is not None
                moved = await self._backend.redrive(queue, to=source)
                return {source: moved} if moved else {}
        moved_to: dict[str, int] = {}
        held: list[ReceivedMessage] = []
        try:
            async for message in self._scan(queue, held):
                letter = DeadLetter.of(queue, message)
                if not where.matches(letter, self._clock()):
                    continue
                target = to or letter.source
                if target is None:
                    continue  # nowhere known to send it: it stays (the listing shows it)
                await self._send_back(letter, target)
                await self._backend.delete(queue, message.receipt_handle)
                held.remove(message)
                moved_to[target] = moved_to.get(target, 0) + 1
                if limit is not None and sum(moved_to.values()) >= limit:
                    break
        finally:
            await self._release(queue, held)
        return moved_to

    async def purge(self, queue: str, where: DeadLetterFilter) -> int | None:
        """Delete matching dead letters; the count (None when the whole queue was purged)."""
        if where.everything:
            await self._backend.purge(queue)
            return None
        deleted = 0
        held: list[ReceivedMessage] = []
        try:
            async for message in self._scan(queue, held):
                if where.matches(DeadLetter.of(queue, message), self._clock()):
                    await self._backend.delete(queue, message.receipt_handle)
                    held.remove(message)
                    deleted += 1
        finally:
            await self._release(queue, held)
        return deleted

    async def _scan(
        self, queue: str, held: list[ReceivedMessage]
    ) -> AsyncIterator[ReceivedMessage]:
        """Every message of the queue once, each held hidden (and listed in ``held``)."""
        while batch := await self._backend.receive(
            queue, max_messages=10, wait_s=0, visibility_timeout_s=self._hold_s
        ):
            held.extend(batch)
            for message in batch:
                yield message

    async def _send_back(self, letter: DeadLetter, target: str) -> None:
        config = await self._backend.config(target)
        attributes = {
            name: value
            for name, value in letter.attributes.items()
            if not name.startswith(DLQ_ATTRIBUTE_PREFIX)
        }
        if config.fifo:
            await self._backend.send(
                target,
                letter.body,
                group_id=letter.group_id or letter.kind,
                dedup_id=f"redrive-{letter.message_id}",  # a rerun after a crash sends it once
                attributes=attributes,
            )
        else:
            await self._backend.send(target, letter.body, attributes=attributes)

    async def _release(self, queue: str, held: list[ReceivedMessage]) -> None:
        for message in held:
            with contextlib.suppress(QueueError):  # already visible again
                await self._backend.change_visibility(queue, message.receipt_handle, 0)
