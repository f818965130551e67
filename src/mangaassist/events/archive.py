"""Archives and replay: events kept by pattern for a retention period, and sent again on demand.

An archive keeps every event its pattern matches (the default keeps every ``mangaassist.*``
event for 30 days, as the design documents' archive does). A replay reads an archive's events
of a time window in the order they were archived and delivers them to the bus's rules (all, or
the ones named) with ``replay-name`` set, as EventBridge marks replays; replayed events are not
archived again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from mangaassist.domain.event_records import ArchiveRow
from mangaassist.events.envelope import Event
from mangaassist.events.patterns import CompiledPattern, compile_pattern
from mangaassist.store.base import EventStore

if TYPE_CHECKING:
    from mangaassist.events.local import LocalEventBus

__all__ = ["DEFAULT_ARCHIVES", "Archive", "ArchiveConfig", "ReplayReport", "Replayer"]

_PAGE = 500


class ArchiveConfig(BaseModel):
    """An archive as configured (``MANGAASSIST_EVENTS_ARCHIVES``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[\.\-_A-Za-z0-9]{1,48}$")
    eventPattern: dict[str, Any] = Field(default_factory=dict)  # noqa: N815
    retentionDays: float = Field(30, gt=0)  # noqa: N815


DEFAULT_ARCHIVES: tuple[dict[str, Any], ...] = (
    {
        "name": "mangaassist-archive",
        "eventPattern": {"source": [{"prefix": "mangaassist."}]},
        "retentionDays": 30,
    },
)


@dataclass(frozen=True, slots=True)
class Archive:
    """A compiled archive: which events it keeps and for how long."""

    name: str
    retention: timedelta
    matcher: CompiledPattern = field(repr=False)

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> Archive:
        """Parse and check one archive (raises pydantic ``ValidationError`` or
        ``InvalidEventPattern``)."""
        config = ArchiveConfig.model_validate(dict(data))
        return cls(
            config.name, timedelta(days=config.retentionDays), compile_pattern(config.eventPattern)
        )


def archive_rows(
    events: Iterable[tuple[Event, dict[str, Any], str]], archives: Sequence[Archive], now: datetime
) -> list[ArchiveRow]:
    """The rows keeping ``(event, event as dict, event as JSON)`` in the archives that match."""
    rows = []
    for event, as_dict, as_json in events:
        if event.replay_name is not None:
            continue
        for archive in archives:
            if archive.matcher.matches(as_dict):
                rows.append(
                    ArchiveRow(
                        archive.name,
                        event.id,
                        event.time,
                        event.source,
                        event.detail_type,
                        as_json,
                        now + archive.retention,
                    )
                )
    return rows


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What a replay did."""

    name: str
    events: int
    deliveries: int


class Replayer:
    """Reads archives and hands the events back to the bus as replays."""

    def __init__(self, store: EventStore, bus: LocalEventBus) -> None:
        self._store = store
        self._bus = bus

    def archive_names(self) -> set[str]:
        """The archives a replay can read."""
        return {archive.name for archive in self._bus.archives}

    async def replay(
        self,
        archive: str,
        start: datetime,
        end: datetime,
        *,
        rules: Sequence[str] | None = None,
        name: str | None = None,
    ) -> ReplayReport:
        """Re-deliver the archive's events with ``start <= time < end`` to ``rules`` (all when
        None), each marked with ``replay-name``."""
        replay_name = name or f"replay-{uuid.uuid4().hex[:12]}"
        after, events, deliveries = 0, 0, 0
        while True:
            page = await self._store.archived_events(
                archive, start, end, after_seq=after, limit=_PAGE
            )
            if not page:
                break
            after = page[-1].seq
            batch = [Event.from_json(row.body).replayed(replay_name) for row in page]
            deliveries += await self._bus.deliver(batch, only_rules=rules)
            events += len(batch)
        return ReplayReport(replay_name, events, deliveries)
