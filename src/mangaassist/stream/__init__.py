"""Resumable answer streams: every numbered delta of an answer, kept for a short resume window.

Customers on trains lose their connection mid-answer while generation carries on. When they
reconnect, possibly to another API process, they send ``resume {messageId, afterSeq}`` and get
every missing delta exactly once, then the rest live, then the final event.

``buffer.DeltaBuffer`` is the port and ``buffer.MemoryDeltaBuffer`` the embedded backend that
always ships; ``redis_buffer.RedisDeltaBuffer`` lets a client resume on any API process.
"""
