"""In-process targets: named handlers a rule can send events to.

A handler target is delivered like any other: as a durable job on the deliveries queue, retried
by its target's retry policy and dead-lettered after, so a handler that fails (a full disk, a
store outage) loses nothing. A handler receives the matched event and the target's input (the
whole event unless the target transforms it: parsed JSON, or the text when it is not JSON).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from mangaassist.events.envelope import Event

__all__ = ["EventHandler", "EventHandlers"]

#: ``(event, target input) -> None``; raising means "retry me".
EventHandler = Callable[[Event, Any], Awaitable[None]]


class EventHandlers:
    """Handlers by the name rules use (``{"handler": "analytics"}``)."""

    def __init__(self) -> None:
        self._handlers: dict[str, EventHandler] = {}

    def register(self, name: str, handler: EventHandler) -> None:
        """Make ``handler`` the target called ``name``."""
        self._handlers[name] = handler

    def get(self, name: str) -> EventHandler | None:
        """The handler called ``name``, if any."""
        return self._handlers.get(name)

    def names(self) -> list[str]:
        """Every registered name, sorted (rules naming anything else are refused)."""
        return sorted(self._handlers)
