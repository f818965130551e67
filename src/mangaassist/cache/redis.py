"""The shared response cache on Redis, so every API process drops the same stale answers.

Layout under the namespace ``ns``:

- ``{ns}:entry:{sha256(key)}``: a hash with the value in field ``v`` and one field ``p:{id}`` per
  product id the answer mentions, expiring with the entry's TTL. Hashing makes any key (Japanese,
  emoji, very long prompts) a short, fixed-length Redis key.
- ``{ns}:product:{id}``: a set of the entry digests that mention the product, expiring no sooner
  than the longest-lived entry added to it, so an invalidation always finds live entries.

Writes go through Lua scripts, each atomic on the server: an invalidation can never interleave
with a put and leave an answer mentioning the product outside the index. The scripts compute
keys from the namespace, so the namespace must live on one node (standalone Redis or ElastiCache
without cluster mode).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from mangaassist.cache.base import CacheUnavailableError, ResponseCache
from mangaassist.redis_support import UNREACHABLE, redis_client, without_credentials

if TYPE_CHECKING:
    pass

__all__ = ["DEFAULT_NAMESPACE", "REDIS_TIMEOUT_S", "RedisResponseCache"]

DEFAULT_NAMESPACE = "mangaassist:cache"

#: A cache that answers slower than this costs more than it saves within a 3 s chat deadline.
REDIS_TIMEOUT_S = 1.0

#: How many keys one SCAN step asks for while clearing a namespace.
_SCAN_COUNT = 500

# Drop the product-index members of the entry KEYS[1], then the entry; 1 if it existed.
# ARGV: product-set key prefix, the entry's member name.
_UNLINK_ENTRY = """
local function unlink_entry(entry, product_prefix, member)
  for _, field in ipairs(redis.call('HKEYS', entry)) do
    if string.sub(field, 1, 2) == 'p:' then
      redis.call('SREM', product_prefix .. string.sub(field, 3), member)
    end
  end
  return redis.call('DEL', entry)
end
"""

_DELETE = _UNLINK_ENTRY + "return unlink_entry(KEYS[1], ARGV[1], ARGV[2])\n"

# Replace the entry KEYS[1] and its product memberships.
# ARGV: value, TTL in ms, product-set key prefix, member name, product ids...
_PUT = (
    _UNLINK_ENTRY
    + """
local entry, ttl, prefix, member = KEYS[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
unlink_entry(entry, prefix, member)
redis.call('HSET', entry, 'v', ARGV[1])
for i = 5, #ARGV do
  local products = prefix .. ARGV[i]
  redis.call('HSET', entry, 'p:' .. ARGV[i], '')
  redis.call('SADD', products, member)
  if redis.call('PTTL', products) < ttl then
    redis.call('PEXPIRE', products, ttl)
  end
end
redis.call('PEXPIRE', entry, ttl)
"""
)

# Drop every entry that still mentions one of the products, and the products' sets.
# A set may name an entry that expired and was re-put without the product; that one stays.
# ARGV: entry key prefix, product-set key prefix, product ids...
_INVALIDATE = (
    _UNLINK_ENTRY
    + """
local dropped = 0
for i = 3, #ARGV do
  local products = ARGV[2] .. ARGV[i]
  for _, member in ipairs(redis.call('SMEMBERS', products)) do
    local entry = ARGV[1] .. member
    if redis.call('HEXISTS', entry, 'p:' .. ARGV[i]) == 1 then
      dropped = dropped + unlink_entry(entry, ARGV[2], member)
    end
  end
  redis.call('DEL', products)
end
return dropped
"""
)


class RedisResponseCache(ResponseCache):
    """The response cache on Redis, shared by every process that uses the same namespace.

    Args:
        url: A redis-py URL, e.g. ``redis://127.0.0.1:6379/0``.
        namespace: Prefix of every key this cache owns; ``clear`` removes ``{namespace}:*``, so
            one namespace should not be a prefix of another followed by ``:``.
        timeout_s: Connect and command timeout; past it an operation raises
            ``CacheUnavailableError``.
    """

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        timeout_s: float = REDIS_TIMEOUT_S,
    ) -> None:
        if not namespace:
            raise ValueError("namespace must not be empty")
        self.namespace = namespace
        self._where = without_credentials(url)
        self._unreachable = UNREACHABLE()
        self._client = redis_client(url, timeout_s=timeout_s)
        self._entry_prefix = f"{namespace}:entry:"
        self._product_prefix = f"{namespace}:product:"
        self._put_script = self._client.register_script(_PUT)
        self._delete_script = self._client.register_script(_DELETE)
        self._invalidate_script = self._client.register_script(_INVALIDATE)

    async def _get(self, key: str) -> bytes | None:
        with self._unavailable_on_error():
            value = await self._client.hget(self._entry_prefix + _digest(key), "v")
        assert value is None or isinstance(value, bytes)  # decode_responses is off
        return value

    async def _put(
        self, key: str, value: bytes, product_ids: tuple[str, ...], ttl_s: float
    ) -> None:
        member = _digest(key)
        ttl_ms = max(1, round(ttl_s * 1000))
        with self._unavailable_on_error():
            await self._put_script(
                keys=[self._entry_prefix + member],
                args=[value, ttl_ms, self._product_prefix, member, *product_ids],
            )

    async def _invalidate_products(self, product_ids: tuple[str, ...]) -> int:
        with self._unavailable_on_error():
            dropped = await self._invalidate_script(
                args=[self._entry_prefix, self._product_prefix, *product_ids]
            )
        return int(dropped)

    async def _delete(self, key: str) -> bool:
        member = _digest(key)
        with self._unavailable_on_error():
            existed = await self._delete_script(
                keys=[self._entry_prefix + member], args=[self._product_prefix, member]
            )
        return bool(existed)

    async def clear(self) -> None:
        """Unlink every key under ``{namespace}:`` in SCAN batches; other data stays untouched."""
        pattern = _glob_escape(self.namespace) + ":*"
        with self._unavailable_on_error():
            batch: list[bytes] = []
            async for key in self._client.scan_iter(match=pattern, count=_SCAN_COUNT):
                batch.append(key)
                if len(batch) >= _SCAN_COUNT:
                    await self._client.unlink(*batch)
                    batch.clear()
            if batch:
                await self._client.unlink(*batch)

    async def ping(self) -> None:
        with self._unavailable_on_error():
            await self._client.ping()

    async def close(self) -> None:
        await self._client.aclose()

    @contextmanager
    def _unavailable_on_error(self) -> Iterator[None]:
        """Turn redis-py's connection and timeout errors into the port's own error."""
        try:
            yield
        except self._unreachable as exc:
            raise CacheUnavailableError(f"Redis at {self._where}: {exc}") from exc


def _digest(key: str) -> str:
    """A fixed-length, ASCII name for any cache key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _glob_escape(text: str) -> str:
    """Escape the characters SCAN MATCH treats as a pattern, so a namespace matches itself only."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)
