"""Security headers on every HTTP response, as plain ASGI middleware.

The chat page loads only its own script and stylesheet, so its Content-Security-Policy allows
``'self'`` and nothing inline; API responses are data and get ``default-src 'none'``. FastAPI's
``/docs`` and ``/redoc`` load Swagger UI from a CDN, so they keep no CSP. Answers under ``/v1/``
are about one customer's conversation and are never cached by browsers or proxies.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mangaassist.access.gate import under

__all__ = ["PAGE_CSP", "SecurityHeadersMiddleware"]

#: The page loads only what MangaAssist serves (no third-party requests); the store's own
#: pages may frame it (a chat widget), others may not.
PAGE_CSP = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_NO_CSP = ("/docs", "/redoc")


def _csp(path: str) -> str | None:
    if any(under(path, prefix) for prefix in _NO_CSP):
        return None
    if path == "/" or under(path, "/static"):
        return PAGE_CSP
    return API_CSP


class SecurityHeadersMiddleware:
    """Adds the headers a browser needs to treat the page and the API safely."""

    def __init__(self, app: ASGIApp, hsts_max_age_s: int = 0) -> None:
        self.app = app
        self.fixed = dict(_COMMON)
        if hsts_max_age_s > 0:
            self.fixed["Strict-Transport-Security"] = f"max-age={hsts_max_age_s}; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        csp = _csp(path)
        private = under(path, "/v1")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.fixed.items():
                    headers.setdefault(name, value)
                if csp is not None:
                    headers.setdefault("Content-Security-Policy", csp)
                if private:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
