"""The embedded event bus: rules matched in this process, deliveries through the durable queues.

A PutEvents here matches each event against the rule book, archives it, and sends one message
per (matched rule, target) before answering: queue targets get theirs directly, webhook and
handler targets get an ``event_delivery`` job. An event is accepted only once all of its
messages (and its archive rows) are stored, so an accepted event is never lost; an event whose
messages could not all be stored answers ``InternalFailure`` and ``publish`` sends it again
(a target may then see it twice: delivery is at least once, as on EventBridge).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog

from mangaassist.events.archive import Archive, archive_rows
from mangaassist.events.base import EventBus, PutResult
from mangaassist.events.delivery import PlannedDelivery, plan_deliveries
from mangaassist.events.envelope import Event
from mangaassist.events.ruleset import RuleSet
from mangaassist.events.schemas import SchemaRegistry
from mangaassist.queues.base import (
    MAX_BATCH,
    MAX_BATCH_BYTES,
    QueueBackend,
    QueueDoesNotExistError,
    QueueError,
)
from mangaassist.store.base import EventStore

__all__ = ["DeliveryFailedError", "LocalEventBus"]

log = structlog.get_logger("mangaassist.events")

#: Queue errors that will fail again however often they are retried: park the delivery.
_PERMANENT_CODES = frozenset(
    {"InvalidParameterValue", "AWS.SimpleQueueService.NonExistentQueue", "InvalidMessageContents"}
)


def _chunks(entries: list[PlannedDelivery]) -> Iterator[list[PlannedDelivery]]:
    """Batches of at most 10 entries and 1 MiB."""
    chunk: list[PlannedDelivery] = []
    size = 0
    for planned in entries:
        length = len(planned.entry.body.encode())
        if chunk and (len(chunk) == MAX_BATCH or size + length > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(planned)
        size += length
    if chunk:
        yield chunk


class DeliveryFailedError(Exception):
    """Some messages of a PutEvents could not be stored; ``events`` names whose."""

    def __init__(self, events: set[str], reason: str) -> None:
        super().__init__(reason)
        self.events = events


class LocalEventBus(EventBus):
    """EventBridge semantics on the product's own queues and store."""

    def __init__(
        self,
        schemas: SchemaRegistry,
        *,
        queues: QueueBackend,
        store: EventStore,
        rules: Callable[[], RuleSet],
        archives: Sequence[Archive] = (),
        account: str | None = None,
        region: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(schemas, account=account, region=region)
        self._queues = queues
        self._store = store
        self._rules = rules
        self.archives = tuple(archives)
        self._clock = clock

    async def _put(self, events: Sequence[Event]) -> list[PutResult]:
        now = self._clock()
        forms = [(event, event.to_dict(), event.to_json()) for event in events]
        rows = archive_rows(forms, self.archives, now)
        # The archive (the store) and the deliveries (the queues) are written side by side; an
        # event is accepted only when both are stored.
        archived, delivered = await asyncio.gather(
            self._store.archive_events(rows) if rows else asyncio.sleep(0),
            self.deliver(events, now=now, forms=[form for _, form, _ in forms]),
            return_exceptions=True,
        )
        failed: dict[str, str] = {}
        if isinstance(archived, BaseException):
            log.warning("event_archive_failed", error=str(archived), events=len(events))
            failed = {event.id: f"archive: {archived}" for event in events}
        if isinstance(delivered, DeliveryFailedError):
            failed |= dict.fromkeys(delivered.events, str(delivered))
        elif isinstance(delivered, BaseException):
            raise delivered
        return [
            PutResult(error_code="InternalFailure", error_message=failed[event.id])
            if event.id in failed
            else PutResult(event_id=event.id)
            for event in events
        ]

    async def deliver(
        self,
        events: Sequence[Event],
        *,
        only_rules: Sequence[str] | None = None,
        now: datetime | None = None,
        forms: Sequence[dict[str, Any]] | None = None,
    ) -> int:
        """Send every message that delivers ``events`` to their matched rules' targets (only
        the rules named, when given); return how many. Raises ``DeliveryFailedError`` naming the
        events some of whose messages could not be stored."""
        moment = now or self._clock()
        ruleset = self._rules()
        by_queue: dict[str, list[PlannedDelivery]] = {}
        owner: dict[str, str] = {}
        dicts = forms if forms is not None else [event.to_dict() for event in events]
        for event, as_dict in zip(events, dicts, strict=True):
            rules = ruleset.matching(as_dict, only=only_rules)
            for planned in plan_deliveries(event, rules, moment, as_dict):
                by_queue.setdefault(planned.queue, []).append(planned)
                owner[planned.entry.id] = event.id
        failed: set[str] = set()
        reasons: list[str] = []
        sent = 0
        for queue, deliveries in by_queue.items():
            for chunk in _chunks(deliveries):
                try:
                    results = await self._queues.send_batch(queue, [p.entry for p in chunk])
                except QueueDoesNotExistError as exc:
                    await self._park(chunk, f"{exc.code}: {exc}")
                    continue
                except (QueueError, OSError) as exc:
                    failed.update(owner[p.entry.id] for p in chunk)
                    reasons.append(f"{queue}: {exc}")
                    continue
                for result, item in zip(results, chunk, strict=True):
                    if result.ok:
                        sent += 1
                    elif result.error_code in _PERMANENT_CODES:
                        await self._park([item], f"{result.error_code}: {result.error_message}")
                    else:
                        failed.add(owner[item.entry.id])
                        reasons.append(f"{queue}: {result.error_code}")
        if failed:
            raise DeliveryFailedError(failed, "; ".join(reasons[:3]))
        return sent

    async def _park(self, deliveries: list[PlannedDelivery], reason: str) -> None:
        """Deliveries a queue refuses for good go to their dead-letter queue with the reason."""
        for planned in deliveries:
            log.error(
                "event_delivery_refused", queue=planned.queue, rule=planned.rule,
                target=planned.target, reason=reason,
            )  # fmt: skip
            entry = planned.entry
            attributes = {
                **entry.attributes,
                "dlq.source": planned.queue,
                "dlq.failure": "permanent",
                "dlq.reason": reason[:1000],
            }
            try:
                fifo = planned.dead_letter.endswith(".fifo")
                await self._queues.send(
                    planned.dead_letter, entry.body, attributes=attributes,
                    group_id="dead" if fifo else None, dedup_id=entry.id if fifo else None,
                )  # fmt: skip
            except QueueError as exc:
                raise DeliveryFailedError(
                    {entry.attributes.get("event.id", "")}, str(exc)
                ) from None
