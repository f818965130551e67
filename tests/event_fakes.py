"""A recording event bus for tests: a real ``EventBus`` subclass whose backend keeps events."""

from __future__ import annotations

from collections.abc import Sequence

from mangaassist.events.base import EventBus, PutResult
from mangaassist.events.envelope import Event
from mangaassist.events.schemas import SchemaRegistry


class RecordingBus(EventBus):
    """Keeps every accepted event in ``events``; ``fail_next`` entries answer InternalFailure."""

    def __init__(self, schemas: SchemaRegistry | None = None) -> None:
        super().__init__(schemas or SchemaRegistry.load())
        self.events: list[Event] = []
        self.calls = 0
        self.fail_next = 0

    async def _put(self, events: Sequence[Event]) -> list[PutResult]:
        self.calls += 1
        results = []
        for event in events:
            if self.fail_next > 0:
                self.fail_next -= 1
                results.append(PutResult(error_code="InternalFailure", error_message="injected"))
                continue
            self.events.append(event)
            results.append(PutResult(event_id=event.id))
        return results

    def of_type(self, detail_type: str) -> list[Event]:
        """The recorded events of one detail-type, in order."""
        return [e for e in self.events if e.detail_type == detail_type]
