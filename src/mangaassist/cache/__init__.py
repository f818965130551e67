"""The response cache port and its adapters: answers cached briefly, dropped when a product changes.

``base.ResponseCache`` is the port; ``memory.MemoryResponseCache`` is the embedded backend that
always ships and ``redis.RedisResponseCache`` shares the cache between API processes.
"""
