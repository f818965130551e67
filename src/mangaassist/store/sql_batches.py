"""Batch analysis queries of the SQL store: one code path for SQLite and PostgreSQL.

Functions of an open connection; ``SqlStore`` owns the transactions. The semantics are those of
``mangaassist.store.base.BatchStore``. Final states are written with a conditional UPDATE
(``WHERE status NOT IN final``), so of two deliveries of one job only the first stores anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, insert, select, update

from mangaassist.domain.batch import (
    BatchItem,
    BatchRequest,
    CallbackState,
    ItemFailure,
    ItemResult,
    ItemStatus,
)
from mangaassist.store.schema import batch_items, batch_requests

__all__ = [
    "complete_item",
    "create_batch",
    "fail_item",
    "get_item",
    "list_unenqueued",
    "list_unsent_callbacks",
    "mark_enqueued",
    "set_callback_state",
    "start_item",
]

_FINAL = (ItemStatus.COMPLETED.value, ItemStatus.FAILED.value)


def _item_row(item: BatchItem) -> dict[str, Any]:
    return {
        "request_id": item.request_id,
        "batch_id": item.batch_id,
        "position": item.position,
        "manga_id": item.manga_id,
        "analysis_type": item.analysis_type,
        "additional_context": item.additional_context,
        "status": item.status.value,
        "attempts": item.attempts,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "enqueued_at": item.enqueued_at,
        "callback_state": item.callback_state.value,
        "callback_attempts": 0,
    }


def _item(row: RowMapping) -> BatchItem:
    result = None
    if row["model_id"] is not None:
        result = ItemResult(
            data=row["result_data"],
            raw_text=row["raw_text"] or "",
            model_id=row["model_id"],
            input_tokens=int(row["input_tokens"] or 0),
            output_tokens=int(row["output_tokens"] or 0),
            cost_usd=float(row["cost_usd"] or 0.0),
        )
    failure = None
    if row["error_code"] is not None:
        failure = ItemFailure(row["error_code"], row["error_message"] or "")
    return BatchItem(
        request_id=row["request_id"],
        batch_id=row["batch_id"],
        position=int(row["position"]),
        manga_id=row["manga_id"],
        analysis_type=row["analysis_type"],
        additional_context=row["additional_context"],
        status=ItemStatus(row["status"]),
        attempts=int(row["attempts"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        queue=row["queue"],
        enqueued_at=row["enqueued_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=result,
        failure=failure,
        callback_url=row["callback_url"],
        callback_state=CallbackState(row["callback_state"]),
        callback_attempts=int(row["callback_attempts"]),
        callback_error=row["callback_error"],
        callback_delivered_at=row["callback_delivered_at"],
    )


def _select() -> Any:
    return select(batch_items, batch_requests.c.queue, batch_requests.c.callback_url).join_from(
        batch_items, batch_requests
    )


def create_batch(conn: Connection, batch: BatchRequest, items: Sequence[BatchItem]) -> None:
    """Insert the batch and its items; call inside a transaction."""
    conn.execute(
        insert(batch_requests).values(
            batch_id=batch.id,
            created_at=batch.created_at,
            priority=batch.priority,
            queue=batch.queue,
            item_count=batch.item_count,
            callback_url=batch.callback_url,
            notification=batch.notification,
        )
    )
    if items:
        conn.execute(insert(batch_items), [_item_row(item) for item in items])


def get_item(conn: Connection, request_id: str) -> BatchItem | None:
    """One item, or None."""
    row = conn.execute(_select().where(batch_items.c.request_id == request_id)).mappings().first()
    return None if row is None else _item(row)


def mark_enqueued(conn: Connection, request_ids: Sequence[str], *, now: datetime) -> None:
    """Set ``enqueued_at`` of the items."""
    if request_ids:
        conn.execute(
            update(batch_items)
            .where(batch_items.c.request_id.in_(list(request_ids)))
            .values(enqueued_at=now)
        )


def start_item(conn: Connection, request_id: str, *, now: datetime) -> BatchItem | None:
    """``processing``, one more attempt, unless final; then the item as it now is."""
    conn.execute(
        update(batch_items)
        .where(and_(batch_items.c.request_id == request_id, batch_items.c.status.not_in(_FINAL)))
        .values(
            status=ItemStatus.PROCESSING.value,
            attempts=batch_items.c.attempts + 1,
            started_at=now,
            updated_at=now,
        )
    )
    return get_item(conn, request_id)


def _finish(conn: Connection, request_id: str, values: dict[str, Any]) -> bool:
    # An item with a callback url carries ``callback_state = pending`` from the start, so the
    # statement that makes it final also makes its callback due: a crash right after cannot
    # lose the callback, the sweep finds final items whose callback is still pending.
    final = (
        update(batch_items)
        .where(and_(batch_items.c.request_id == request_id, batch_items.c.status.not_in(_FINAL)))
        .values(**values)
    )
    return bool(conn.execute(final).rowcount == 1)


def complete_item(conn: Connection, request_id: str, result: ItemResult, *, now: datetime) -> bool:
    """Store the result unless the item is final already; True when this call stored it."""
    return _finish(
        conn,
        request_id,
        {
            "status": ItemStatus.COMPLETED.value,
            "result_data": result.data,
            "raw_text": result.raw_text,
            "model_id": result.model_id,
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "cost_usd": result.cost_usd,
            "error_code": None,
            "error_message": None,
            "finished_at": now,
            "updated_at": now,
        },
    )


def fail_item(conn: Connection, request_id: str, failure: ItemFailure, *, now: datetime) -> bool:
    """Mark the item failed unless it is final already; True when this call did."""
    return _finish(
        conn,
        request_id,
        {
            "status": ItemStatus.FAILED.value,
            "error_code": failure.code,
            "error_message": failure.message[:2000],
            "finished_at": now,
            "updated_at": now,
        },
    )


def set_callback_state(
    conn: Connection,
    request_id: str,
    state: str,
    *,
    now: datetime,
    error: str | None = None,
    attempted: bool = False,
) -> None:
    """Record the callback's state."""
    values: dict[str, Any] = {"callback_state": CallbackState(state).value, "updated_at": now}
    if attempted:
        values["callback_attempts"] = batch_items.c.callback_attempts + 1
        values["callback_error"] = error[:2000] if error else None
    if state == CallbackState.DELIVERED:
        values["callback_delivered_at"] = now
    # Nothing follows ``delivered``; and noting the job as enqueued only follows ``pending``
    # (the job may already have run and recorded its outcome).
    allowed = (
        batch_items.c.callback_state == CallbackState.PENDING.value
        if state == CallbackState.ENQUEUED and not attempted
        else batch_items.c.callback_state != CallbackState.DELIVERED.value
    )
    conn.execute(
        update(batch_items)
        .where(and_(batch_items.c.request_id == request_id, allowed))
        .values(**values)
    )


def list_unenqueued(conn: Connection, created_before: datetime, limit: int) -> list[BatchItem]:
    """Queued items older than ``created_before`` that no queue confirmed."""
    query = (
        _select()
        .where(
            and_(
                batch_items.c.status == ItemStatus.QUEUED.value,
                batch_items.c.created_at < created_before,
                batch_items.c.enqueued_at.is_(None),
            )
        )
        .order_by(batch_items.c.created_at)
        .limit(limit)
    )
    return [_item(row) for row in conn.execute(query).mappings()]


def list_unsent_callbacks(
    conn: Connection, updated_before: datetime, limit: int
) -> list[BatchItem]:
    """Final items older than ``updated_before`` whose callback job was never enqueued."""
    query = (
        _select()
        .where(
            and_(
                batch_items.c.status.in_(_FINAL),
                batch_items.c.callback_state == CallbackState.PENDING.value,
                batch_items.c.updated_at < updated_before,
            )
        )
        .order_by(batch_items.c.updated_at)
        .limit(limit)
    )
    return [_item(row) for row in conn.execute(query).mappings()]
