"""How a batch item is shown: ``GET /v1/manga/status/{requestId}`` and the callback payload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mangaassist.domain.batch import BatchItem, CallbackState, ItemStatus

__all__ = ["callback_payload", "render_item"]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def render_item(item: BatchItem, *, with_delivery: bool = True) -> dict[str, Any]:
    """The status object (camelCase JSON). ``with_delivery`` adds what changes while the
    callback is delivered (``updatedAt``, ``callback``); the callback body leaves it out so
    every retry sends the same bytes."""
    result = item.result
    body: dict[str, Any] = {
        "requestId": item.request_id,
        "batchId": item.batch_id,
        "mangaId": item.manga_id,
        "analysisType": item.analysis_type,
        "status": item.status.value,
        "attempts": item.attempts,
        "createdAt": _iso(item.created_at),
        "startedAt": _iso(item.started_at),
        "finishedAt": _iso(item.finished_at),
        "result": None,
        "resultFormat": None,
        "usage": None,
        "modelId": None,
        "costUsd": None,
        "error": None,
    }
    if result is not None:
        body["result"] = result.data if result.data is not None else result.raw_text
        body["resultFormat"] = "json" if result.data is not None else "text"
        body["usage"] = {"inputTokens": result.input_tokens, "outputTokens": result.output_tokens}
        body["modelId"] = result.model_id
        body["costUsd"] = result.cost_usd
    if item.failure is not None:
        body["error"] = {"code": item.failure.code, "message": item.failure.message}
    if with_delivery:
        body["updatedAt"] = _iso(item.updated_at)
        body["callback"] = (
            None
            if item.callback_state == CallbackState.NONE
            else {
                "status": item.callback_state.value,
                "attempts": item.callback_attempts,
                "lastError": item.callback_error,
                "deliveredAt": _iso(item.callback_delivered_at),
            }
        )
    return body


def callback_payload(item: BatchItem) -> dict[str, Any]:
    """The body POSTed to ``callback_url`` once the item is final (Standard Webhooks shape:
    ``type``, ``timestamp``, ``data``)."""
    kind = "completed" if item.status == ItemStatus.COMPLETED else "failed"
    return {
        "type": f"batch_analysis.{kind}",
        "timestamp": _iso(item.finished_at or item.updated_at),
        "data": render_item(item, with_delivery=False),
    }
