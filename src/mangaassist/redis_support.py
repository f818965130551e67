"""What every Redis adapter needs: a client that fails fast, and URLs safe to show in errors."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["UNREACHABLE", "redis_client", "without_credentials"]


def _unreachable() -> tuple[type[Exception], ...]:
    from redis.exceptions import ConnectionError, TimeoutError

    return (ConnectionError, TimeoutError)


#: Errors that mean "Redis cannot be reached" (evaluated lazily: redis is an optional import).
UNREACHABLE = _unreachable


def redis_client(url: str, *, timeout_s: float, socket_timeout_s: float | None = None) -> Redis:
    """An asyncio client with short timeouts and one immediate retry.

    The retry replaces a pooled connection the server closed while idle; backing off longer
    would only spend the caller's deadline.
    """
    try:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Redis backends need the redis package: pip install 'redis>=5'") from exc
    client: Redis = Redis.from_url(
        url,
        socket_connect_timeout=timeout_s,
        socket_timeout=socket_timeout_s if socket_timeout_s is not None else timeout_s,
        retry=Retry(NoBackoff(), retries=1),
    )
    return client


def without_credentials(url: str) -> str:
    """The URL with any user and password removed, for error messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))
