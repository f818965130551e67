"""Access control of ``/v1/...`` HTTP routes: credentials in, 401/403/429 or the request out.

Only ``/v1/`` is guarded: the page, static files, health, metrics and docs are public, inbound
webhooks carry their own signatures and ``/admin`` its own token. WebSocket handshakes go through
the streaming authorizer (``api/routes/ws.py``), which asks the same gate.
"""

from __future__ import annotations

import json

import structlog
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mangaassist.access.gate import AccessGate, Credentials, under
from mangaassist.access.limiter import headers as limit_headers
from mangaassist.access.principal import Admission
from mangaassist.access.tokens import bearer_token
from mangaassist.api.errors import send_error
from mangaassist.observability.access_metrics import AccessMetrics

__all__ = ["AccessMiddleware"]

#: Chat sessions named in a path: ``/v1/sessions/{sessionId}/...``.
_SESSIONS = "/v1/sessions/"


def _session_from_body(body: bytes) -> str | None:
    """The ``sessionId`` of a JSON chat request, if it has one (anything else: None, and the
    route answers the malformed body itself)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    session = data.get("sessionId") if isinstance(data, dict) else None
    return session if isinstance(session, str) and session else None


class AccessMiddleware:
    """Asks the :class:`AccessGate` about every ``/v1/`` request.

    Admitted requests carry their :class:`~mangaassist.access.principal.Principal` in
    ``request.state.principal`` and get ``X-RateLimit-*`` headers; refused ones get the error
    envelope with ``WWW-Authenticate`` (401) or ``Retry-After`` (429). Anonymous chat requests
    are also counted per session, so their JSON body is read here (bounded by the body-size
    limit outside this middleware) and replayed to the route.
    """

    def __init__(self, app: ASGIApp, gate: AccessGate, metrics: AccessMetrics) -> None:
        self.app = app
        self.gate = gate
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not under(path, "/v1") or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        request_headers = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        client = scope.get("client")
        api_key = request_headers.get("x-api-key") or None
        bearer = bearer_token(request_headers.get("authorization"))
        session_id = None
        if not api_key and not bearer:
            session_id, receive = await self._anonymous_session(scope, path, receive)
        credentials = Credentials(
            api_key=api_key,
            bearer=bearer,
            client_ip=client[0] if client else "unknown",
            session_id=session_id,
        )
        verdict = await self.gate.admit(path, credentials)
        kind = credentials.kind
        if not isinstance(verdict, Admission):
            self.metrics.verdicts.labels(kind, verdict.code).inc()
            await send_error(
                scope, send, verdict.status, verdict.code, verdict.params, verdict.headers
            )
            return
        self.metrics.verdicts.labels(kind, "admitted").inc()
        scope.setdefault("state", {})["principal"] = verdict.principal
        structlog.contextvars.bind_contextvars(principal=verdict.principal.subject)
        extra = limit_headers(verdict.decision) if verdict.decision else {}

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start" and extra:
                response_headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    response_headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_limits)
        finally:
            structlog.contextvars.unbind_contextvars("principal")

    async def _anonymous_session(
        self, scope: Scope, path: str, receive: Receive
    ) -> tuple[str | None, Receive]:
        """The chat session an anonymous request is about, and a ``receive`` that still
        yields the whole body to the route."""
        if path.startswith(_SESSIONS):
            return path[len(_SESSIONS) :].split("/", 1)[0] or None, receive
        if scope["method"] != "POST" or not self.gate.policy.allows_anonymous(path):
            return None, receive
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None, receive  # the client left; the route sees the disconnect
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return _session_from_body(body), replay
