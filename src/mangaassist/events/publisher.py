"""What the product's services need of the bus: ``publish``, which never fails silently.

Services announce what happened (ChatMessageReceived, InferenceCompleted, CatalogUpdate.*)
without knowing who listens; the bus (``events/base.py``) decides. ``Event`` lives in
``events/envelope.py``; it is re-exported here for the services that publish.
"""

from __future__ import annotations

from typing import Protocol

from mangaassist.events.envelope import Event

__all__ = ["Event", "EventPublisher"]


class EventPublisher(Protocol):
    """Where services send events (an ``EventBus``)."""

    async def publish(self, *events: Event) -> None:
        """Publish; raises ``InvalidEvent`` or ``EventBusError`` when an event did not go out."""
        ...
