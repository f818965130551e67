"""Opens the queue backend a URL names (``MANGAASSIST_QUEUES_URL``)."""

from __future__ import annotations

from mangaassist.queues.base import QueueBackend

__all__ = ["open_queues"]


def open_queues(url: str, *, namespace: str = "mangaassist:queues") -> QueueBackend:
    """``sqlite:///path`` (default; one file shared by every process), ``redis://host:6379/0``
    (Redis Streams) or ``sqs://region`` / ``sqs+http://host:port`` (Amazon SQS or a compatible
    server). ``namespace`` prefixes the keys of Redis queues."""
    if url.startswith("sqlite:"):
        from mangaassist.queues.sqlite import SqliteQueue

        return SqliteQueue(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mangaassist.queues.redis import RedisQueue

        return RedisQueue(url, namespace=namespace)
    if url.startswith(("sqs://", "sqs+http://", "sqs+https://")):
        # sqs://REGION, or sqs+http(s)://HOST:PORT?region=...&prefix=... (see SqsEndpoint)
        from mangaassist.queues.sqs import SqsQueue

        return SqsQueue(url)
    raise ValueError(
        f"unsupported MANGAASSIST_QUEUES_URL {url!r}: use sqlite:///path, redis://host:port/db "
        "or sqs://region"
    )
