"""What the store keeps for the event bus: rules set through the admin API, archived events and
the health of outbound webhook endpoints."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["ArchiveRow", "ArchivedEvent", "EndpointHealth", "StoredRule"]


@dataclass(frozen=True, slots=True)
class StoredRule:
    """A rule as saved: its name and its configuration (the admin API's JSON)."""

    name: str
    config: dict[str, Any]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ArchiveRow:
    """One event to archive."""

    archive: str
    event_id: str
    event_time: datetime
    source: str
    detail_type: str
    body: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    """An archived event read back for a replay; ``seq`` orders the archive."""

    seq: int
    event_time: datetime
    body: str


@dataclass(frozen=True, slots=True)
class EndpointHealth:
    """How an outbound webhook endpoint has been answering."""

    url: str
    failing_since: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    failures: int
    disabled_at: datetime | None

    @property
    def disabled(self) -> bool:
        """True once the endpoint failed for longer than the allowed period."""
        return self.disabled_at is not None
