"""The publisher's catalog feed: apply a batch of changes, then announce each changed series.

A delivery is ``{"batch_id", "type": new_release|price_change|discontinued, "items": [...]}``:

- ``new_release``: each item is a series record in the catalog file format (docs/catalog-format.md),
  inserted or updated by id;
- ``price_change``: ``{"id", "price_jpy"}`` (or ``priceJpy``) sets the price of an existing series;
- ``discontinued``: ``{"id"}`` sets the stock of an existing series to 0 (the record stays, so
  the assistant can still say the series exists but cannot be ordered).

An item that cannot be applied (invalid, or an unknown id) is reported in the result and the
others are still applied. Every change *sets* a value, so a redelivery after a crash half-way
writes nothing new (the store skips records whose content did not change). Then one
``CatalogUpdate.<type>`` is published per applied item, all of them: the bus sends them ten per
PutEvents call (the design documents' handler dropped every item after the tenth).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Literal, get_args

from pydantic import ValidationError

from mangaassist.catalog.service import CatalogService
from mangaassist.domain.catalog import RomanizeFn, SeriesRecord
from mangaassist.events.envelope import Event
from mangaassist.events.publisher import EventPublisher
from mangaassist.store.base import CatalogStore
from mangaassist.webhooks.handlers import (
    Delivery,
    HandlerResult,
    UnusablePayloadError,
    event_id,
    required_str,
)

__all__ = ["CATALOG_SOURCE", "MAX_BATCH_ITEMS", "CatalogFeedHandler", "UpdateType"]

CATALOG_SOURCE = "mangaassist.catalog"
UpdateType = Literal["new_release", "price_change", "discontinued"]
#: Most items one delivery may carry (the request body limit usually binds first).
MAX_BATCH_ITEMS = 1000
#: Rejected items listed in the result (the stored result stays small); the count is exact.
_MAX_REPORTED = 20
_ACTIONS = ("regenerate_embedding", "update_search_index", "notify_subscribers")
_MAX_PRICE_JPY = 1_000_000


def _rejection(index: int, item: Any, reason: str) -> dict[str, Any]:
    item_id = item.get("id") if isinstance(item, Mapping) else None
    return {"index": index, "id": item_id if isinstance(item_id, str) else None, "reason": reason}


def _new_release(item: Mapping[str, Any], romanize: RomanizeFn | None) -> SeriesRecord:
    return SeriesRecord.model_validate(dict(item)).with_derived_fields(romanize)


def _validation_reason(exc: ValidationError) -> str:
    errors = exc.errors()[:3]
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'item'}: {e['msg']}" for e in errors)


def _price(item: Mapping[str, Any]) -> int:
    price = item.get("price_jpy", item.get("priceJpy"))
    if isinstance(price, bool) or not isinstance(price, int) or not 1 <= price <= _MAX_PRICE_JPY:
        raise ValueError(f"price_jpy must be a whole number of yen from 1 to {_MAX_PRICE_JPY}")
    return price


class CatalogFeedHandler:
    """Applies catalog batches to the store, drops cached answers about the changed series,
    re-indexes search, and publishes CatalogUpdate events."""

    def __init__(
        self,
        catalog: CatalogService,
        store: CatalogStore,
        events: EventPublisher,
        romanize: RomanizeFn | None = None,
    ) -> None:
        self._catalog = catalog
        self._store = store
        self._events = events
        self._romanize = romanize

    async def handle(self, payload: Mapping[str, Any], delivery: Delivery) -> HandlerResult:
        batch_id = required_str(payload, "batch_id")
        update_type = payload.get("type")
        if not isinstance(update_type, str) or update_type not in get_args(UpdateType):
            raise UnusablePayloadError(
                "`type` must be new_release, price_change or discontinued",
                details=[{"field": "type", "message": "new_release|price_change|discontinued"}],
            )
        items = payload.get("items")
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH_ITEMS:
            raise UnusablePayloadError(
                f"`items` must be a list of 1 to {MAX_BATCH_ITEMS} objects",
                details=[{"field": "items", "message": f"1 to {MAX_BATCH_ITEMS} objects"}],
            )
        if update_type == "new_release":
            # Records without romaji get it from pykakasi: CPU work, kept off the event loop.
            applied, rejected = await asyncio.to_thread(self._new_releases, items)
        else:
            applied, rejected = await self._updates(items, update_type)
        if not applied:
            raise UnusablePayloadError(
                "no item of the batch can be applied",
                details=[
                    {"field": f"items.{r['index']}", "message": r["reason"]} for r in rejected
                ][:_MAX_REPORTED],
            )
        counts = await self._store.upsert_series([record for _, record, _ in applied])
        if counts.changed:
            await self._catalog.changed(counts.changed_ids, reindex=False)
            # Answered only once search shows the change (a 200 means it is live).
            await self._catalog.refresh()
        events = [
            Event(
                f"CatalogUpdate.{update_type}",
                {
                    "productId": record.id,
                    "title": record.title,
                    "updateType": update_type,
                    "batchId": batch_id,
                    "data": dict(item),
                    "actions": list(_ACTIONS),
                },
                source=CATALOG_SOURCE,
                id=event_id(delivery, index),
            )
            for index, record, item in applied
        ]
        await self._events.publish(*events)
        return HandlerResult(
            "processed",
            {
                "batchId": batch_id,
                "updateType": update_type,
                "items": len(items),
                "applied": len(applied),
                "changed": counts.changed,
                "published": len(events),
                "rejectedCount": len(rejected),
                "rejected": rejected[:_MAX_REPORTED],
            },
        )

    def _new_releases(
        self, items: Sequence[Any]
    ) -> tuple[list[tuple[int, SeriesRecord, Mapping[str, Any]]], list[dict[str, Any]]]:
        applied: list[tuple[int, SeriesRecord, Mapping[str, Any]]] = []
        rejected: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                rejected.append(_rejection(index, item, "an item must be an object"))
                continue
            try:
                applied.append((index, _new_release(item, self._romanize), item))
            except ValidationError as exc:
                rejected.append(_rejection(index, item, _validation_reason(exc)))
        return applied, rejected

    async def _updates(
        self, items: Sequence[Any], update_type: str
    ) -> tuple[list[tuple[int, SeriesRecord, Mapping[str, Any]]], list[dict[str, Any]]]:
        ids = [i["id"] for i in items if isinstance(i, Mapping) and isinstance(i.get("id"), str)]
        existing = await self._catalog.get_many(list(dict.fromkeys(ids)))
        applied: list[tuple[int, SeriesRecord, Mapping[str, Any]]] = []
        rejected: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
                rejected.append(_rejection(index, item, "an item must be an object with an id"))
                continue
            record = existing.get(item["id"])
            if record is None:
                rejected.append(_rejection(index, item, "no series has this id"))
                continue
            try:
                change = {"price_jpy": _price(item)} if update_type == "price_change" else {}
            except ValueError as exc:
                rejected.append(_rejection(index, item, str(exc)))
                continue
            updated = record.model_copy(update=change or {"stock": 0})
            # A later item of the same batch for the same series sees this change.
            existing[record.id] = updated
            applied.append((index, updated, item))
        return applied, rejected
