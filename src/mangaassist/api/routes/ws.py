"""WebSocket ``/v1/ws``: the streaming chat protocol (docs/streaming.md)."""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from mangaassist.api.ws_connection import ConnectionLimits, WsConnection
from mangaassist.bootstrap import Container

__all__ = ["router"]

router = APIRouter()


@router.websocket("/v1/ws")
async def chat_socket(websocket: WebSocket) -> None:
    """Streamed answers with app-level ping/pong, resume after reconnect, and cancel."""
    container: Container = websocket.app.state.container
    settings = container.settings
    headers = {k.lower(): v for k, v in websocket.headers.items()}
    query = dict(websocket.query_params)
    if await container.authorizer(headers, query) is None:
        await websocket.close(code=4003, reason="unauthorized")  # before accept: HTTP 403
        return
    mobile = "mobile" in (query.get("clientType", ""), headers.get("x-client-type", ""))
    limits = ConnectionLimits(
        ping_interval_s=settings.ws_ping_interval_s,
        pong_timeout_s=settings.ws_pong_timeout_s,
        idle_timeout_s=settings.ws_mobile_idle_timeout_s if mobile else settings.ws_idle_timeout_s,
        resume_window_s=settings.stream_resume_window_s,
        max_frame_bytes=settings.ws_max_frame_bytes,
        send_queue_frames=settings.ws_send_queue_frames,
    )
    await websocket.accept()
    connection = WsConnection(
        websocket,
        streaming=container.streaming,
        store=container.store,
        metrics=container.stream_metrics,
        limits=limits,
        headers=headers,
        limiter=container.frame_limiter,
    )
    await connection.serve()
