"""What every event job shares: reading the event a queue target delivered, and answering it.

A queue target's job payload is the whole event envelope (``Event.to_dict``). A payload that is
not an envelope, or an event of another type, can never succeed: ``PermanentError`` sends it to
the dead-letter queue with the reason. An event a job publishes in answer gets an id derived from
the event it answers (``uuid5``), so a redelivered job republishes the same id and consumers
drop the repeat; a bus that stays down raises ``TransientError`` so the job is retried.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from mangaassist.events.base import EventBusError
from mangaassist.events.envelope import Event, InvalidEvent
from mangaassist.events.publisher import EventPublisher
from mangaassist.queues.worker import Job, PermanentError, TransientError

__all__ = ["AI_SOURCE", "answer_id", "event_of", "optional_text", "publish_answer", "required_text"]

#: Source of the events the AI jobs publish (the design documents' ``mangaassist.ai``).
AI_SOURCE = "mangaassist.ai"


def event_of(job: Job, source: str, detail_type: str) -> Event:
    """The event a job carries; ``PermanentError`` unless it is ``detail_type`` from ``source``."""
    try:
        event = Event.from_dict(job.payload)
    except InvalidEvent as exc:
        raise PermanentError(f"{job.kind}: {exc.reason}") from None
    if (event.source, event.detail_type) != (source, detail_type):
        raise PermanentError(
            f"{job.kind} takes {detail_type} from {source}, not "
            f"{event.detail_type} from {event.source} (event {event.id})"
        )
    return event


def required_text(event: Event, name: str) -> str:
    """A non-empty string of the event's detail, stripped; ``PermanentError`` otherwise."""
    value = optional_text(event, name)
    if value is None:
        raise PermanentError(f"{event.detail_type} {event.id}: detail.{name} is missing")
    return value


def optional_text(event: Event, name: str) -> str | None:
    """A string of the event's detail, stripped, None when absent or blank; ``PermanentError``
    when it is something else than a string."""
    value = event.detail.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    raise PermanentError(f"{event.detail_type} {event.id}: detail.{name} must be a string")


def answer_id(kind: str, event: Event) -> str:
    """The id of the event ``kind`` publishes in answer to ``event``: the same on every try."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mangaassist:{kind}:{event.id}"))


async def publish_answer(
    bus: EventPublisher,
    kind: str,
    answering: Event,
    detail_type: str,
    detail: Mapping[str, Any],
) -> Event:
    """Publish the answer to ``answering`` from ``mangaassist.ai`` under its derived id; a bus
    outage is a ``TransientError``, an answer the bus refuses a ``PermanentError``."""
    answer = Event(detail_type, detail, source=AI_SOURCE, id=answer_id(kind, answering))
    try:
        await bus.publish(answer)
    except EventBusError as exc:
        raise TransientError(f"{kind}: the event bus did not take {detail_type}: {exc}") from exc
    except InvalidEvent as exc:
        raise PermanentError(f"{kind}: the bus refused {detail_type}: {exc.reason}") from exc
    return answer
