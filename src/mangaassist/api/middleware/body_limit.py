"""Rejects request bodies above the configured size with 413, before they are buffered.

One limit fits most routes (a chat message is at most 32 KB); routes whose valid requests are
larger (a batch of 100 items, PutEvents, webhook senders) get their own by path prefix.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mangaassist.access.gate import under
from mangaassist.api.errors import BodyTooLargeError, send_error

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """413 PAYLOAD_TOO_LARGE for a body over ``max_bytes``, by Content-Length or as it streams."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, by_route: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        # Longest prefix first, so /v1/manga/batch wins over a /v1 entry.
        self.by_route = sorted((by_route or {}).items(), key=lambda item: -len(item[0]))

    def limit_for(self, path: str) -> int:
        """The body limit of ``path``: its longest matching prefix's, else the default."""
        for prefix, limit in self.by_route:
            if under(path, prefix):
                return limit
        return self.default_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.limit_for(scope.get("path", ""))
        declared = dict(scope.get("headers", [])).get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > max_bytes:
            await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE", {"limit": max_bytes})
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLargeError(max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE", {"limit": max_bytes})
