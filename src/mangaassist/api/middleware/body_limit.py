"""Rejects request bodies above the configured size with 413, before they are buffered."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mangaassist.api.errors import BodyTooLargeError, send_error

__all__ = ["BodyLimitMiddleware"]


class BodyLimitMiddleware:
    """413 PAYLOAD_TOO_LARGE for a body over ``max_bytes``, by Content-Length or as it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE", {"limit": self.max_bytes})
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await send_error(scope, send, 413, "PAYLOAD_TOO_LARGE", {"limit": self.max_bytes})
