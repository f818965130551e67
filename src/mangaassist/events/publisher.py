"""The event publisher port and its in-process backend.

The chat pipeline announces what happened (ChatMessageReceived, InferenceCompleted) without
knowing who listens: analytics, moderation, the event bus of a later release. Publishing never
fails a customer's request; a subscriber that raises is logged and skipped.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

__all__ = ["SOURCE", "Event", "EventPublisher", "InProcessPublisher"]

SOURCE = "mangaassist.chat"
log = structlog.get_logger("mangaassist.events")


@dataclass(frozen=True, slots=True)
class Event:
    """An event in the EventBridge shape: detail-type, source, detail, id and time."""

    detail_type: str
    detail: dict[str, Any]
    source: str = SOURCE
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    time: datetime = field(default_factory=lambda: datetime.now(UTC))


class EventPublisher(Protocol):
    """Where the pipeline sends events."""

    async def publish(self, event: Event) -> None:
        """Hand the event on; never raises for a subscriber's failure."""
        ...


Subscriber = Callable[[Event], Awaitable[None]]


class InProcessPublisher:
    """Delivers events to in-process subscribers and keeps the most recent ones for inspection."""

    def __init__(self, keep: int = 1000) -> None:
        self.recent: deque[Event] = deque(maxlen=keep)
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        """Call ``subscriber`` with every event published from now on."""
        self._subscribers.append(subscriber)

    async def publish(self, event: Event) -> None:
        self.recent.append(event)
        for subscriber in self._subscribers:
            try:
                await subscriber(event)
            except Exception:  # a listener's bug must not fail the customer's request
                log.exception("subscriber_failed", detail_type=event.detail_type)
