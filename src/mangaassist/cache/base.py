"""The response cache port: answers cached briefly, dropped when a product they mention changes.

The design documents' stale-cache incident served "在庫あり" (in stock) for two hours after a title
sold out, because cached answers had a 1-hour TTL and nothing dropped them on a product update.
So every entry records the product ids its answer mentions, the default TTL is 5 minutes, and
``invalidate_products`` drops every entry mentioning a changed product at once.

The base class owns the checks every backend shares; a backend fills in the private methods and
moves bytes, leaving encoding to the caller.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import Self

__all__ = ["DEFAULT_TTL_S", "CacheUnavailableError", "ResponseCache"]

#: Five minutes, not an hour: the stale-cache incident's fix for answers that mention stock.
DEFAULT_TTL_S = 300.0


class CacheUnavailableError(RuntimeError):
    """The cache backend cannot be reached; callers degrade by treating it as a miss."""


class ResponseCache(ABC):
    """Bytes by key, each entry tagged with product ids, expiring after a TTL.

    Keys are compared exactly (no Unicode normalization: the caller builds keys). Every method is
    safe to call from many asyncio tasks at once.
    """

    #: Short backend name for readiness and logs (``memory``, ``redis``).
    backend: str

    async def get(self, key: str) -> bytes | None:
        """The value stored under ``key``, or None when absent, expired or invalidated."""
        return await self._get(key)

    async def put(
        self,
        key: str,
        value: bytes,
        *,
        product_ids: Sequence[str] = (),
        ttl_s: float = DEFAULT_TTL_S,
    ) -> None:
        """Store ``value`` for ``ttl_s`` seconds, mentioning ``product_ids``.

        A put replaces the value, the TTL and the product ids of an earlier entry under ``key``:
        the entry stops belonging to products the new answer no longer mentions.

        Raises:
            TypeError: ``value`` is not bytes, or ``product_ids`` is a single string (which would
                otherwise be read as one product id per character).
            ValueError: ``ttl_s`` is not a positive finite number.
        """
        if not isinstance(value, bytes):
            raise TypeError(f"cache values are bytes, not {type(value).__name__}")
        if not (math.isfinite(ttl_s) and ttl_s > 0):
            raise ValueError(f"ttl_s must be a positive number of seconds, not {ttl_s!r}")
        await self._put(key, value, _unique_ids(product_ids), ttl_s)

    async def invalidate_products(self, product_ids: Sequence[str]) -> int:
        """Drop every entry that mentions any of ``product_ids``; return how many were dropped.

        Entries already expired are not counted. When this returns, no entry put before the call
        began and mentioning one of the products can be read any more.
        """
        ids = _unique_ids(product_ids)
        if not ids:
            return 0
        return await self._invalidate_products(ids)

    async def delete(self, key: str) -> bool:
        """Drop the entry under ``key``; return whether a live one existed."""
        return await self._delete(key)

    @abstractmethod
    async def clear(self) -> None:
        """Drop every entry of this cache (its namespace only, never other data)."""

    @abstractmethod
    async def ping(self) -> None:
        """Raise ``CacheUnavailableError`` if the backend cannot be reached."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections; the cache is not used afterwards."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @abstractmethod
    async def _get(self, key: str) -> bytes | None: ...

    @abstractmethod
    async def _put(
        self, key: str, value: bytes, product_ids: tuple[str, ...], ttl_s: float
    ) -> None: ...

    @abstractmethod
    async def _invalidate_products(self, product_ids: tuple[str, ...]) -> int: ...

    @abstractmethod
    async def _delete(self, key: str) -> bool: ...


def _unique_ids(product_ids: Sequence[str]) -> tuple[str, ...]:
    """Product ids without repeats, in first-seen order; a bare string is a caller bug."""
    if isinstance(product_ids, str):
        raise TypeError("product_ids is a sequence of ids; wrap a single id in a list")
    return tuple(dict.fromkeys(product_ids))
