"""WebSocket ``/v1/ws``: the streaming chat protocol (docs/streaming.md)."""

from __future__ import annotations

import json

from fastapi import APIRouter, WebSocket
from fastapi.responses import Response

from mangaassist.access.principal import Refusal
from mangaassist.api.errors import error_body, request_id_of
from mangaassist.api.language import response_language
from mangaassist.api.ws_connection import ConnectionLimits, WsConnection
from mangaassist.bootstrap import Container
from mangaassist.stream.authorizer import Handshake

__all__ = ["router"]

router = APIRouter()

#: Close code of a refused handshake on servers without the denial-response extension
#: (closing before accept makes the server answer HTTP 403).
CLOSE_REFUSED = 4003


async def _refuse(websocket: WebSocket, refusal: Refusal, language_header: str | None) -> None:
    """Fail the handshake with the refusal's status and error envelope where the server can
    send an HTTP response (uvicorn can); elsewhere close before accepting (HTTP 403)."""
    if "websocket.http.response" not in websocket.scope.get("extensions", {}):
        await websocket.close(code=CLOSE_REFUSED, reason=refusal.code)
        return
    body = error_body(
        refusal.code,
        response_language(language_header),
        request_id_of(websocket.scope),
        params=refusal.params,
    )
    await websocket.send_denial_response(
        Response(
            json.dumps(body, ensure_ascii=False),
            status_code=refusal.status,
            headers=dict(refusal.headers),
            media_type="application/json",
        )
    )


@router.websocket("/v1/ws")
async def chat_socket(websocket: WebSocket) -> None:
    """Streamed answers with app-level ping/pong, resume after reconnect, and cancel."""
    container: Container = websocket.app.state.container
    settings = container.settings
    headers = {k.lower(): v for k, v in websocket.headers.items()}
    client = websocket.client
    handshake = Handshake(
        headers, dict(websocket.query_params), client.host if client else "unknown"
    )
    verdict = await container.authorizer(handshake)
    if isinstance(verdict, Refusal):
        await _refuse(websocket, verdict, headers.get("accept-language"))
        return
    limits = ConnectionLimits(
        ping_interval_s=settings.ws_ping_interval_s,
        pong_timeout_s=settings.ws_pong_timeout_s,
        idle_timeout_s=settings.ws_mobile_idle_timeout_s
        if handshake.mobile
        else settings.ws_idle_timeout_s,
        resume_window_s=settings.stream_resume_window_s,
        max_frame_bytes=settings.ws_max_frame_bytes,
        send_queue_frames=settings.ws_send_queue_frames,
        ping_required=handshake.mobile,
    )
    await websocket.accept()
    connection = WsConnection(
        websocket,
        streaming=container.streaming,
        store=container.store,
        metrics=container.stream_metrics,
        limits=limits,
        headers=headers,
        limiter=container.frame_limits.for_connection(verdict.principal, handshake),
    )
    await connection.serve()
