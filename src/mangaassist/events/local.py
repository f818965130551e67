"""The embedded event bus: rules matched in this process, deliveries through the queues."""

from __future__ import annotations

from collections.abc import Sequence

from mangaassist.events.base import EventBus, PutResult
from mangaassist.events.envelope import Event
from mangaassist.events.schemas import SchemaRegistry

__all__ = ["LocalEventBus"]


class LocalEventBus(EventBus):
    """EventBridge semantics without AWS."""

    def __init__(self, schemas: SchemaRegistry) -> None:
        super().__init__(schemas)

    async def _put(self, events: Sequence[Event]) -> list[PutResult]:
        return [PutResult(event_id=event.id) for event in events]
