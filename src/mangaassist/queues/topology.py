"""The queues MangaAssist runs on, from the design documents, and a file to override them.

| queue | type | visibility | retention | dead letters after 3 receives to |
|---|---|---|---|---|
| manga-fm-high-priority | standard | 60 s | 4 days | manga-fm-dlq |
| manga-fm-normal | standard | 120 s | 7 days | manga-fm-dlq |
| manga-fm-low-priority | standard | 300 s | 14 days | manga-fm-dlq |
| manga-fm-ordered.fifo | FIFO | 60 s | 7 days | manga-fm-dlq.fifo |
| manga-fm-session.fifo | FIFO | 60 s | 4 days | manga-fm-dlq.fifo |
| manga-enrichment-queue.fifo | FIFO | 300 s | 7 days | manga-fm-dlq.fifo |
| manga-fm-dlq, manga-fm-dlq.fifo | DLQs | 30 s | 14 days | (kept for investigation) |
| manga-moderation | standard | 60 s | 14 days | manga-fm-dlq |
| manga-deliveries | standard | 60 s | 4 days | manga-deliveries-dlq after 200 receives |
| manga-deliveries-dlq | DLQ | 300 s | 14 days | (event targets' default DLQ) |

``manga-deliveries`` carries the event bus's webhook and handler deliveries (and job
callbacks): each target's own retry policy decides when a delivery gives up and goes to its
dead-letter queue, so the queue's redrive is only a backstop above any policy's attempts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mangaassist.queues.base import QueueBackend, QueueConfig, RedrivePolicy

__all__ = [
    "DEFAULT_TOPOLOGY",
    "DELIVERIES_DLQ",
    "DELIVERIES_QUEUE",
    "ensure_topology",
    "load_topology",
]

DAY = 86_400.0
MAX_RECEIVES = 3
STANDARD_DLQ = "manga-fm-dlq"
FIFO_DLQ = "manga-fm-dlq.fifo"
DELIVERIES_QUEUE = "manga-deliveries"
DELIVERIES_DLQ = "manga-deliveries-dlq"
#: Above EventBridge's most retries (185) plus the first try: the policy always decides first.
DELIVERIES_MAX_RECEIVES = 200


def _queue(name: str, visibility_s: float, retention_days: float) -> QueueConfig:
    dlq = FIFO_DLQ if name.endswith(".fifo") else STANDARD_DLQ
    return QueueConfig(
        name=name,
        visibility_timeout_s=visibility_s,
        retention_s=retention_days * DAY,
        redrive=RedrivePolicy(dlq, MAX_RECEIVES),
    )


DEFAULT_TOPOLOGY: tuple[QueueConfig, ...] = (
    QueueConfig(STANDARD_DLQ, visibility_timeout_s=30, retention_s=14 * DAY),
    QueueConfig(FIFO_DLQ, visibility_timeout_s=30, retention_s=14 * DAY),
    _queue("manga-fm-high-priority", 60, 4),
    _queue("manga-fm-normal", 120, 7),
    _queue("manga-fm-low-priority", 300, 14),
    _queue("manga-fm-ordered.fifo", 60, 7),
    _queue("manga-fm-session.fifo", 60, 4),
    _queue("manga-enrichment-queue.fifo", 300, 7),
    _queue("manga-moderation", 60, 14),
    QueueConfig(DELIVERIES_DLQ, visibility_timeout_s=300, retention_s=14 * DAY),
    QueueConfig(
        DELIVERIES_QUEUE,
        visibility_timeout_s=60,
        retention_s=4 * DAY,
        redrive=RedrivePolicy(DELIVERIES_DLQ, DELIVERIES_MAX_RECEIVES),
    ),
)


def _from_json(item: dict[str, Any]) -> QueueConfig:
    redrive = item.get("redrive")
    return QueueConfig(
        name=str(item["name"]),
        visibility_timeout_s=float(item.get("visibilityTimeoutS", 30)),
        retention_s=float(item.get("retentionS", 4 * DAY)),
        delay_s=float(item.get("delayS", 0)),
        max_message_bytes=int(item.get("maxMessageBytes", 262_144)),
        receive_wait_s=float(item.get("receiveWaitS", 0)),
        redrive=RedrivePolicy(str(redrive["deadLetter"]), int(redrive.get("maxReceiveCount", 3)))
        if redrive
        else None,
        content_based_dedup=bool(item.get("contentBasedDedup", False)),
    )


def load_topology(path: Path | None) -> tuple[QueueConfig, ...]:
    """The default topology, or the queues of a JSON file: ``{"queues": [{"name": ...,
    "visibilityTimeoutS": ..., "retentionS": ..., "redrive": {"deadLetter": ...,
    "maxReceiveCount": ...}}, ...]}``. A dead-letter queue must be listed too."""
    if path is None:
        return DEFAULT_TOPOLOGY
    data = json.loads(path.read_text(encoding="utf-8"))
    queues = tuple(_from_json(item) for item in data["queues"])
    names = {q.name for q in queues}
    for queue in queues:
        if queue.redrive is not None and queue.redrive.dead_letter not in names:
            raise ValueError(
                f"{queue.name}: dead-letter queue {queue.redrive.dead_letter!r} is not listed"
            )
        if queue.redrive is not None and queue.redrive.dead_letter.endswith(".fifo") != queue.fifo:
            raise ValueError(f"{queue.name}: a dead-letter queue must be of the same type")
    return queues


async def ensure_topology(backend: QueueBackend, topology: tuple[QueueConfig, ...]) -> None:
    """Create every queue (dead-letter queues first), updating the settings of existing ones."""
    for queue in sorted(topology, key=lambda q: q.redrive is not None):
        await backend.create_queue(queue)
