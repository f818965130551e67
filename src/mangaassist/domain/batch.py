"""Batch analysis requests and their items: what ``POST /v1/manga/batch`` records.

One submission (a *batch*) holds 1-100 items; each item is its own request with its own id,
status, result and callback, as in the design documents' batch processor, which tracks and
reports every message by its ``request_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "PRIORITY_QUEUES",
    "BatchItem",
    "BatchRequest",
    "CallbackState",
    "ItemFailure",
    "ItemResult",
    "ItemStatus",
]

#: The queue of each priority (design documents: high 60 s, normal 120 s, low 300 s visibility).
PRIORITY_QUEUES: dict[str, str] = {
    "high": "manga-fm-high-priority",
    "normal": "manga-fm-normal",
    "low": "manga-fm-low-priority",
}


class ItemStatus(StrEnum):
    """Where an item is; ``completed`` and ``failed`` are final."""

    #: Recorded, waiting in its queue (or for the sweep to enqueue it).
    QUEUED = "queued"
    #: A worker is analysing it (or was, and the job will be delivered again).
    PROCESSING = "processing"
    #: Analysed; the result, usage and cost are stored.
    COMPLETED = "completed"
    #: Failed for good (unknown series, or every attempt failed).
    FAILED = "failed"

    @property
    def final(self) -> bool:
        """True for ``completed`` and ``failed``."""
        return self in (ItemStatus.COMPLETED, ItemStatus.FAILED)


class CallbackState(StrEnum):
    """The completion callback of an item."""

    #: No ``callback_url`` was given.
    NONE = "none"
    #: To be sent once the item is final.
    PENDING = "pending"
    #: A ``callback`` job is in a queue.
    ENQUEUED = "enqueued"
    #: The receiver answered 2xx.
    DELIVERED = "delivered"
    #: Refused for good (4xx, a forbidden address, or every attempt failed).
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """One submission: where its callbacks go and which queue its items use."""

    id: str
    created_at: datetime
    priority: str
    queue: str
    item_count: int
    callback_url: str | None = None
    notification: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What the analyzer answered for one item."""

    data: dict[str, Any] | None
    raw_text: str
    model_id: str
    input_tokens: int
    output_tokens: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class ItemFailure:
    """Why an item failed: a stable code and a message for operators and clients."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One analysis request of a batch, as stored."""

    request_id: str
    batch_id: str
    position: int
    manga_id: str
    analysis_type: str
    additional_context: str | None
    status: ItemStatus
    attempts: int
    created_at: datetime
    updated_at: datetime
    queue: str
    enqueued_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: ItemResult | None = None
    failure: ItemFailure | None = None
    callback_url: str | None = None
    callback_state: CallbackState = CallbackState.NONE
    callback_attempts: int = 0
    callback_error: str | None = None
    callback_delivered_at: datetime | None = None
