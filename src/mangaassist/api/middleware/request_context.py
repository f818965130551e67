"""Request id, access log and metrics for every HTTP request, as plain ASGI middleware."""

from __future__ import annotations

import time
import uuid

import regex
import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mangaassist.api.errors import send_error
from mangaassist.observability.metrics import HttpMetrics

__all__ = ["RequestContextMiddleware"]

log = structlog.get_logger("mangaassist.access")

#: An incoming X-Request-Id is kept only if it is this harmless (it goes into logs and headers).
_SAFE_REQUEST_ID = regex.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None


class RequestContextMiddleware:
    """Assigns ``X-Request-Id``, binds it to logs, and records count and latency per route.

    It is also the last line of defence: an exception no handler took becomes a logged 500
    INTERNAL_ERROR envelope (with the request id) instead of a bare server error.
    """

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started_at = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-Id"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_error", path=scope.get("path"))
            if scope["type"] == "http" and status is None:
                await send_error(scope, send_with_id, 500, "INTERNAL_ERROR")
        finally:
            if scope["type"] == "http":
                self._record(scope, status or 500, time.perf_counter() - started_at)
            structlog.contextvars.unbind_contextvars("request_id")

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.observe(scope["method"], route, status, elapsed)
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            route=route,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
        )
