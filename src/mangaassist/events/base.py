"""The event bus port: PutEvents semantics, checked once here for every backend.

``put_events`` takes at most 10 entries and answers one result per entry, in order, as
EventBridge's PutEvents does: an entry that breaks the envelope or its schema fails alone with
its code, the others go on. ``publish`` is what the product calls: it splits any number of events
into PutEvents calls, retries the entries that failed for a passing reason (throttling, an
internal failure) with jittered backoff, and raises when an event is invalid or the bus stays
down, so a caller never believes an event went out when it did not.

Backends fill in ``_put``: the embedded ``LocalEventBus`` (rules matched in-process, deliveries
through the durable queues) and ``EventBridgeBus``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from mangaassist.events.envelope import Event, InvalidEvent, check_envelope
from mangaassist.events.schemas import SchemaRegistry

__all__ = [
    "MAX_ENTRIES_PER_PUT",
    "RETRYABLE_CODES",
    "EventBus",
    "EventBusError",
    "PutResult",
]

#: PutEvents takes at most 10 entries per call.
MAX_ENTRIES_PER_PUT = 10
#: Entry error codes worth another PutEvents (EventBridge's own and the embedded bus's).
RETRYABLE_CODES = frozenset(
    {"InternalFailure", "InternalException", "ThrottlingException", "ServiceUnavailable"}
)
_PUBLISH_ATTEMPTS = 4
_BACKOFF_BASE_S = 0.05
_BACKOFF_MAX_S = 2.0


@dataclass(frozen=True, slots=True)
class PutResult:
    """One entry's outcome: the event id, or an error code and message."""

    event_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def ok(self) -> bool:
        """True when the bus accepted the entry."""
        return self.error_code is None


class EventBusError(RuntimeError):
    """The bus did not take events after every retry; ``failed`` pairs them with the last
    result."""

    def __init__(self, failed: Sequence[tuple[Event, PutResult]]) -> None:
        first = failed[0][1]
        super().__init__(
            f"{len(failed)} event(s) not published: {first.error_code}: {first.error_message}"
        )
        self.failed = list(failed)


class EventBus(ABC):
    """Publish events; rules decide where they go."""

    def __init__(
        self, schemas: SchemaRegistry, *, account: str | None = None, region: str | None = None
    ) -> None:
        self.schemas = schemas
        self._account = account
        self._region = region
        #: The events this process published most recently (for tests and inspection).
        self.recent: deque[Event] = deque(maxlen=1000)

    def _stamped(self, event: Event) -> Event:
        account = self._account or event.account
        region = self._region or event.region
        if (account, region) == (event.account, event.region):
            return event
        return dataclasses.replace(event, account=account, region=region)

    def check(self, event: Event) -> None:
        """Raise ``InvalidEvent`` for an event no backend would accept."""
        check_envelope(event)
        self.schemas.check(event)

    async def put_events(self, events: Sequence[Event]) -> list[PutResult]:
        """PutEvents: up to 10 entries, one result per entry in order."""
        if not 1 <= len(events) <= MAX_ENTRIES_PER_PUT:
            raise InvalidEvent(
                "EVENT_BATCH_INVALID", f"put 1-{MAX_ENTRIES_PER_PUT} entries, not {len(events)}"
            )
        results: list[PutResult | None] = []
        valid: list[Event] = []
        for event in events:
            try:
                self.check(event)
            except InvalidEvent as exc:
                results.append(PutResult(error_code=exc.code, error_message=exc.reason))
                continue
            results.append(None)
            valid.append(event)
        accepted = iter(await self._accept(valid) if valid else [])
        return [result if result is not None else next(accepted) for result in results]

    async def _accept(self, events: Sequence[Event]) -> list[PutResult]:
        """Hand checked events (1-10) to the backend, stamped; remember the accepted ones."""
        stamped = [self._stamped(event) for event in events]
        outcomes = await self._put(stamped)
        self.recent.extend(e for e, r in zip(stamped, outcomes, strict=True) if r.ok)
        return outcomes

    async def publish(self, *events: Event) -> None:
        """Publish every event, retrying passing failures; raises ``InvalidEvent`` for the first
        invalid event (before anything is sent) and ``EventBusError`` when the bus stays down."""
        for event in events:
            self.check(event)
        pending = list(events)
        for attempt in range(_PUBLISH_ATTEMPTS):
            failed: list[tuple[Event, PutResult]] = []
            for start in range(0, len(pending), MAX_ENTRIES_PER_PUT):
                chunk = pending[start : start + MAX_ENTRIES_PER_PUT]
                results = await self._accept(chunk)  # checked above, once
                failed += [(e, r) for e, r in zip(chunk, results, strict=True) if not r.ok]
            if not failed:
                return
            if any(r.error_code not in RETRYABLE_CODES for _, r in failed):
                raise EventBusError(failed)
            if attempt == _PUBLISH_ATTEMPTS - 1:
                raise EventBusError(failed)
            pending = [event for event, _ in failed]
            ceiling = min(_BACKOFF_MAX_S, _BACKOFF_BASE_S * 2**attempt)
            await asyncio.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not crypto

    async def prepare(self) -> None:  # noqa: B027 - optional: the embedded bus needs nothing
        """Get the bus ready at start-up (an EventBridge bus is created if missing)."""

    @abstractmethod
    async def _put(self, events: Sequence[Event]) -> list[PutResult]:
        """Take checked, stamped events (1-10); one result per event, in order."""

    async def close(self) -> None:  # noqa: B027 - optional: backends without connections keep it
        """Release connections."""
