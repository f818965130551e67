"""Server-Sent Events: ``POST /v1/chat/stream`` and resume with ``Last-Event-ID``.

Event ids are ``{messageId}:{seq}``. A client that lost the stream sends the last id it saw in
``Last-Event-ID`` (with the same POST, or ``GET /v1/chat/stream/{messageId}`` as EventSource
does) and receives every later event exactly once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import StreamingResponse

from mangaassist.api.chat_schemas import ChatRequest
from mangaassist.api.errors import ApiError, request_id_of
from mangaassist.api.language import response_language
from mangaassist.api.messages import Language, message
from mangaassist.api.schemas import ERROR_RESPONSES
from mangaassist.bootstrap import Container
from mangaassist.chat.answer import ChatQuestion
from mangaassist.stream.buffer import BufferUnavailableError, UnknownMessageError
from mangaassist.stream.service import StreamRejected

__all__ = ["router"]

router = APIRouter(prefix="/v1/chat/stream", tags=["chat"], responses=ERROR_RESPONSES)

_SSE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "Events `ack`, `delta` ({text}), `done` ({answer}: the POST /v1/chat "
        "object), `error` ({code, message}), `cancelled`; ids `{messageId}:{seq}`.",
    }
}
_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _sse(event: str, event_id: str, data: dict[str, Any]) -> str:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _parse_last_event_id(value: str | None) -> tuple[str, int] | None:
    if not value or ":" not in value:
        return None
    message_id, _, seq = value.rpartition(":")
    return (message_id, int(seq)) if seq.isdigit() and message_id else None


async def _events(
    container: Container, message_id: str, after_seq: int, language: Language
) -> AsyncIterator[str]:
    try:
        async for event in container.streaming.follow(message_id, after_seq):
            data: dict[str, Any] = {"messageId": message_id, "seq": event.seq, **event.data}
            if event.kind == "error":
                params = {k: v for k, v in event.data.items() if k != "code"}
                code = str(event.data["code"])
                data = {"messageId": message_id, "seq": event.seq, "code": code,
                        "message": message(code, language, **params)}  # fmt: skip
            yield _sse(event.kind, f"{message_id}:{event.seq}", data)
    except (UnknownMessageError, TimeoutError, BufferUnavailableError):
        code = "RESUME_NOT_AVAILABLE"
        yield _sse("error", f"{message_id}:0", {"code": code, "message": message(code, language)})


async def _resumed(
    request: Request, message_id: str, after_seq: int, language: Language
) -> StreamingResponse:
    container: Container = request.app.state.container
    if not await container.streaming.exists(message_id):
        raise ApiError(404, "RESUME_NOT_AVAILABLE", language=language)
    container.stream_metrics.resumes.labels("sse").inc()
    return StreamingResponse(
        _events(container, message_id, after_seq, language),
        media_type="text/event-stream",
        headers=_HEADERS,
    )


@router.post("", response_class=StreamingResponse, responses=_SSE_RESPONSE)
async def chat_stream(
    body: ChatRequest,
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """The chat answer as Server-Sent Events; with ``Last-Event-ID``, resume instead."""
    container: Container = request.app.state.container
    language = response_language(
        request.headers.get("accept-language"), body.model_dump(by_alias=True)
    )
    resume = _parse_last_event_id(last_event_id)
    if resume is not None:
        return await _resumed(request, resume[0], resume[1], language)
    question = ChatQuestion(
        message=body.message,
        session_id=body.session_id,
        preferred_language=body.preferred_language,
        model_preference=body.model_preference,
    )
    try:
        started = await container.streaming.start(question, request_id_of(request.scope))
    except StreamRejected as exc:
        error = ApiError(422, exc.code, language=language)
        error.params = exc.params
        raise error from None

    async def stream() -> AsyncIterator[str]:
        ack = {"messageId": started.message_id, "sessionId": started.session_id,
               "requestId": started.request_id}  # fmt: skip
        yield _sse("ack", f"{started.message_id}:0", ack)
        async for chunk in _events(container, started.message_id, 0, language):
            yield chunk

    return StreamingResponse(stream(), media_type="text/event-stream", headers=_HEADERS)


@router.get("/{messageId}", response_class=StreamingResponse, responses=_SSE_RESPONSE)
async def resume_stream(
    message_id: Annotated[str, Path(alias="messageId", pattern=r"^[A-Za-z0-9_-]{8,64}$")],
    request: Request,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    after_seq: int = 0,
) -> StreamingResponse:
    """Resume a streamed answer (EventSource reconnects here with ``Last-Event-ID``)."""
    language = response_language(request.headers.get("accept-language"))
    parsed = _parse_last_event_id(last_event_id)
    if parsed is not None and parsed[0] == message_id:
        after_seq = parsed[1]
    return await _resumed(request, message_id, after_seq, language)
