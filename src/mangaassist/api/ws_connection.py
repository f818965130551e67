"""One WebSocket connection of the streaming chat protocol (see docs/streaming.md).

Three tasks per connection: the receive loop (frames in), the sender (a bounded queue of frames
out, so a slow reader can never grow server memory) and the idle watchdog (application pings
are the keep-alive; nothing heard for the idle timeout closes the connection). Forwarders follow
the resumable buffer, so what a connection shows never depends on the generation's own task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from starlette.websockets import WebSocket, WebSocketDisconnect

from mangaassist.api.language import response_language
from mangaassist.api.messages import Language, message
from mangaassist.chat.answer import ChatQuestion
from mangaassist.observability.stream_metrics import StreamMetrics
from mangaassist.store.base import Store
from mangaassist.stream.authorizer import FrameLimiter, NoFrameLimit
from mangaassist.stream.buffer import BufferedEvent, BufferUnavailableError, UnknownMessageError
from mangaassist.stream.protocol import (
    Cancel,
    ClearSession,
    GetHistory,
    Ping,
    ProtocolError,
    Resume,
    SendMessage,
    parse_frame,
)
from mangaassist.stream.service import StreamingChat, StreamRejected

__all__ = ["CLOSE_IDLE", "CLOSE_SLOW_READER", "ConnectionLimits", "WsConnection"]

log = structlog.get_logger("mangaassist.ws")

#: Close codes (application range 4000-4999; 1009 is the standard "message too big").
CLOSE_IDLE = 4000
CLOSE_SLOW_READER = 4001
CLOSE_TOO_BIG = 1009


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """Timing and size limits of one connection."""

    ping_interval_s: float
    pong_timeout_s: float
    idle_timeout_s: float
    resume_window_s: float
    max_frame_bytes: int
    send_queue_frames: int
    #: Only pings keep the connection alive (mobile clients): other frames do not reset the
    #: idle timer, so a dead carrier NAT path is noticed even mid-conversation.
    ping_required: bool = False


def _event_frame(message_id: str, event: BufferedEvent, language: Language) -> dict[str, Any]:
    frame: dict[str, Any] = {"type": event.kind, "messageId": message_id, "seq": event.seq}
    if event.kind == "delta":
        frame["text"] = event.data["text"]
    elif event.kind == "done":
        frame["answer"] = event.data["answer"]
    elif event.kind == "error":
        params = {k: v for k, v in event.data.items() if k != "code"}
        code = str(event.data["code"])
        frame.update(code=code, message=message(code, language, **params))
    return frame


class WsConnection:
    """Serves one accepted WebSocket until it closes."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        streaming: StreamingChat,
        store: Store,
        metrics: StreamMetrics,
        limits: ConnectionLimits,
        headers: Mapping[str, str],
        limiter: FrameLimiter | None = None,
    ) -> None:
        self._ws = websocket
        self._streaming = streaming
        self._store = store
        self._metrics = metrics
        self._limits = limits
        self._limiter = limiter or NoFrameLimit()
        self._language: Language = response_language(headers.get("accept-language"))
        self.connection_id = uuid.uuid4().hex
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(limits.send_queue_frames)
        self._last_heard = time.monotonic()
        self._last_ping = self._last_heard
        self._forwarder: asyncio.Task[None] | None = None
        self._generating: str | None = None
        self._closed = False

    async def serve(self) -> None:
        """Say hello, then handle frames until the client leaves or a limit closes it."""
        self._metrics.connections.inc()
        sender = asyncio.create_task(self._send_loop())
        watchdog = asyncio.create_task(self._watch_idle())
        try:
            self._send(
                {
                    "type": "hello",
                    "connectionId": self.connection_id,
                    "pingIntervalMs": round(self._limits.ping_interval_s * 1000),
                    "pongTimeoutMs": round(self._limits.pong_timeout_s * 1000),
                    "idleTimeoutMs": round(self._limits.idle_timeout_s * 1000),
                    "pingRequired": self._limits.ping_required,
                    "resumeWindowS": self._limits.resume_window_s,
                    "maxFrameBytes": self._limits.max_frame_bytes,
                }
            )
            await self._receive_loop()
        finally:
            self._closed = True
            for task in (self._forwarder, sender, watchdog):
                if task is not None:
                    task.cancel()
            await asyncio.gather(
                *(t for t in (self._forwarder, sender, watchdog) if t is not None),
                return_exceptions=True,
            )
            self._metrics.connections.dec()

    async def _receive_loop(self) -> None:
        while not self._closed:
            try:
                incoming = await self._ws.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if incoming["type"] == "websocket.disconnect":
                return
            self._last_heard = time.monotonic()
            try:
                await self._receive_frame(incoming)
            except Exception:  # one bad frame must not end the customer's connection
                log.exception("frame_failed", connection_id=self.connection_id)
                self._error("INTERNAL_ERROR")
            if self._closed:
                return

    async def _receive_frame(self, incoming: Mapping[str, Any]) -> None:
        text = incoming.get("text")
        if text is None:
            self._metrics.frames.labels("malformed").inc()
            self._error("MALFORMED_FRAME")
            return
        if len(text.encode()) > self._limits.max_frame_bytes:
            self._metrics.closes.labels("too_big").inc()
            await self._close(CLOSE_TOO_BIG, "frame too large")
            return
        await self._handle(text)

    async def _handle(self, text: str) -> None:
        try:
            action, data = parse_frame(text)
        except ProtocolError as exc:
            self._metrics.frames.labels("malformed").inc()
            self._error(exc.code, details=exc.details)
            return
        self._metrics.frames.labels(action).inc()
        if isinstance(data, Ping):
            self._last_ping = time.monotonic()
        else:
            refused = await self._limiter.check(
                self.connection_id, action, getattr(data, "session_id", None)
            )
            if refused is not None:
                self._error(refused)
                return
        if isinstance(data, Ping):
            self._send({"type": "pong", "ts": data.ts})
        elif isinstance(data, SendMessage):
            await self._send_message(data)
        elif isinstance(data, Resume):
            await self._resume(data)
        elif isinstance(data, Cancel):
            if not await self._streaming.cancel(data.message_id):
                self._error("NOT_CANCELLABLE", message_id=data.message_id)
        elif isinstance(data, GetHistory):
            await self._history(data.session_id)
        elif isinstance(data, ClearSession):
            await self._store.delete_session(data.session_id)
            self._send({"type": "history", "sessionId": data.session_id, "messages": []})

    async def _send_message(self, data: SendMessage) -> None:
        if self._forwarder is not None and not self._forwarder.done():
            self._error("GENERATION_IN_PROGRESS", message_id=self._generating)
            return
        language = response_language(None, {"message": data.message})
        if data.preferred_language in ("ja", "en"):
            language = data.preferred_language
        question = ChatQuestion(
            message=data.message,
            session_id=data.session_id,
            preferred_language=data.preferred_language,
            model_preference=data.model_preference,
        )
        try:
            started = await self._streaming.start(
                question, client_message_id=data.client_message_id
            )
        except StreamRejected as exc:
            self._error(exc.code, language=language, params=exc.params)
            return
        self._generating = started.message_id
        ack: dict[str, Any] = {
            "type": "ack",
            "messageId": started.message_id,
            "sessionId": started.session_id,
            "requestId": started.request_id,
        }
        if data.client_message_id:
            ack["clientMessageId"] = data.client_message_id
        self._send(ack)
        self._forwarder = asyncio.create_task(self._forward(started.message_id, 0, language))

    async def _resume(self, data: Resume) -> None:
        if not await self._streaming.exists(data.message_id):
            self._error("RESUME_NOT_AVAILABLE", message_id=data.message_id)
            return
        if self._forwarder is not None:
            self._forwarder.cancel()
        self._metrics.resumes.labels("websocket").inc()
        self._generating = data.message_id
        self._forwarder = asyncio.create_task(
            self._forward(data.message_id, data.after_seq, self._language)
        )

    async def _forward(self, message_id: str, after_seq: int, language: Language) -> None:
        try:
            async for event in self._streaming.follow(message_id, after_seq):
                self._send(_event_frame(message_id, event, language))
        except (UnknownMessageError, TimeoutError, BufferUnavailableError):
            self._error("RESUME_NOT_AVAILABLE", message_id=message_id)

    async def _history(self, session_id: str) -> None:
        session = await self._store.get_session(session_id)
        turns = session.turns if session else ()
        self._send(
            {
                "type": "history",
                "sessionId": session_id,
                "messages": [
                    {
                        "role": t.role.value,
                        "text": t.text,
                        "createdAt": t.created_at.isoformat(),
                        "intent": t.intent,
                        "productIds": list(t.product_ids),
                        "cancelled": t.cancelled,
                    }
                    for t in turns
                ],
            }
        )

    def _error(
        self,
        code: str,
        *,
        message_id: str | None = None,
        details: list[dict[str, str]] | None = None,
        language: Language | None = None,
        params: Mapping[str, object] | None = None,
    ) -> None:
        frame: dict[str, Any] = {
            "type": "error",
            "code": code,
            "message": message(code, language or self._language, **(params or {})),
        }
        if message_id:
            frame["messageId"] = message_id
        if details:
            frame["details"] = details
        self._send(frame)

    def _send(self, frame: dict[str, Any]) -> None:
        """Queue a frame; a reader too slow to keep the queue below its bound is closed."""
        if self._closed:
            return
        try:
            self._outbox.put_nowait(frame)
        except asyncio.QueueFull:
            self._metrics.closes.labels("slow_reader").inc()
            self._closed = True
            asyncio.get_running_loop().create_task(
                self._close(CLOSE_SLOW_READER, "send buffer full: reading too slowly")
            )

    async def _send_loop(self) -> None:
        while True:
            frame = await self._outbox.get()
            if frame is None:
                return
            await self._ws.send_text(json.dumps(frame, ensure_ascii=False))

    async def _watch_idle(self) -> None:
        timeout = self._limits.idle_timeout_s
        while not self._closed:
            heard = self._last_ping if self._limits.ping_required else self._last_heard
            quiet = time.monotonic() - heard
            if quiet >= timeout:
                self._metrics.closes.labels("idle").inc()
                heard_what = "no ping" if self._limits.ping_required else "nothing"
                await self._close(
                    CLOSE_IDLE, f"idle timeout: {heard_what} received for {timeout:g} s"
                )
                return
            await asyncio.sleep(min(1.0, timeout - quiet))

    async def _close(self, code: int, reason: str) -> None:
        self._closed = True
        with contextlib.suppress(RuntimeError):  # already closed by the client
            await self._ws.close(code=code, reason=reason)
