"""A fake OpenAI-compatible server that answers and fails the way vLLM does, by a ``FaultPlan``.

``POST /v1/chat/completions`` streams server-sent events exactly as vLLM does: a first chunk
with only the role, one chunk per piece of ``split_reply``, a chunk with an empty delta and the
finish reason (``length`` when ``max_tokens`` pieces cut the reply short), then, when the request
asks for it (``stream_options.include_usage``) and the plan allows it, a chunk with no choices and
the usage, and ``data: [DONE]``. Usage counts are simple on purpose: ``prompt_tokens`` is the
number of characters of the messages' content, ``completion_tokens`` the number of pieces.
Without ``stream`` it answers one ``chat.completion`` object. ``GET /v1/models`` lists one model;
it is not a model call, so it is not recorded and takes no outcome from the plan.

``create_app(state, api_key="sk-...")`` refuses calls without that bearer token (401, as vLLM's
``--api-key`` does). Run it alone with ``python -m tests.model_servers.openai --port 8001``.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from tests.model_servers.faults import (
    FakeModelState,
    FaultPlan,
    Outcome,
    add_control_routes,
    split_reply,
)
from tests.model_servers.runner import main

__all__ = ["CONTEXT_WINDOW", "REPLY_EN", "REPLY_JA", "create_app", "prompt_tokens"]

CREATED: Final = 1_700_000_000
#: The context window the CONTEXT outcome reports.
CONTEXT_WINDOW: Final = 4096
#: Content chunks a MALFORMED stream sends before its broken line.
MALFORMED_AFTER: Final = 2
REPLY_JA: Final = "かしこまりました。在庫をお調べします。"
REPLY_EN: Final = "Sure, let me check the stock for you."
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


class CutConnection(Exception):  # noqa: N818 - what it does, not an error
    """Raised inside a streamed body: uvicorn drops the connection mid-body (DISCONNECT)."""


def create_app(state: FakeModelState, *, api_key: str = "") -> FastAPI:
    """The fake server over ``state``; calls need ``Authorization: Bearer <api_key>`` when set."""
    app = FastAPI(title="Fake OpenAI-compatible server")
    add_control_routes(app, state)

    def authorized(request: Request) -> bool:
        return not api_key or request.headers.get("authorization") == f"Bearer {api_key}"

    @app.get("/v1/models")
    async def list_models(request: Request) -> Response:
        if not authorized(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        model = {"id": "fake-model", "object": "model", "created": CREATED, "owned_by": "fake"}
        return JSONResponse({"object": "list", "data": [model]})

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        authorization = request.headers.get("authorization")
        outcome = state.record(
            {"path": request.url.path, "body": body, "authorization": authorization}
        )
        if not authorized(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)  # vLLM's form
        if not isinstance(body, dict):
            return _error(400, "The request body is not a JSON object.", "BadRequestError")
        return await _answer(state, body, outcome)

    return app


def prompt_tokens(body: dict[str, Any]) -> int:
    """The fake's prompt token count: characters of the messages' content."""
    return sum(len(m.get("content") or "") for m in body.get("messages", []))


async def _answer(state: FakeModelState, body: dict[str, Any], outcome: Outcome) -> Response:
    plan = state.plan
    stream = bool(body.get("stream"))
    if outcome is Outcome.THROTTLE:
        message = "Rate limit reached for requests. Please try again later."
        return _error(429, message, "requests", "rate_limit_exceeded", _retry_after(plan))
    if outcome is Outcome.OVERLOADED:  # as a proxy in front of a model still loading says it
        return PlainTextResponse("Service Unavailable", 503, headers=_retry_after(plan))
    if outcome is Outcome.AUTH:
        return _error(
            401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
        )
    if outcome is Outcome.CONTEXT:
        return _error(400, _context_message(body), "BadRequestError", 400)
    if outcome is Outcome.INVALID:
        message = "1 validation error: temperature: Input should be less than or equal to 2"
        return _error(400, message, "BadRequestError", 400)
    if outcome is Outcome.TIMEOUT or (outcome is Outcome.STALL and not stream):
        await state.hang()  # nothing at all; a client still waiting afterwards gets the answer
    if stream:
        return StreamingResponse(_chunks(state, body, outcome), media_type="text/event-stream")
    if outcome is Outcome.MALFORMED:
        return Response('{"id": "chatcmpl-1", "choices": [{"mess', media_type="application/json")
    await asyncio.sleep(state.first_token_delay())
    pieces, finish_reason = _pieces(plan, body)
    text = "".join(pieces)
    choice = {
        "index": 0,
        "message": {"role": "assistant", "content": text},
        "logprobs": None,
        "finish_reason": finish_reason,
    }
    return JSONResponse(
        {**_envelope(body, "chat.completion"), "choices": [choice], "usage": _usage(body, pieces)}
    )


async def _chunks(
    state: FakeModelState, body: dict[str, Any], outcome: Outcome
) -> AsyncIterator[bytes]:
    """The body of a streamed answer, event by event, with the outcome's fault."""
    plan = state.plan
    envelope = _envelope(body, "chat.completion.chunk")
    pieces, finish_reason = _pieces(plan, body)

    def chunk(delta: dict[str, str], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return _event({**envelope, "choices": [choice]})

    yield chunk({"role": "assistant", "content": ""})
    if outcome is Outcome.STALL:
        await state.hang()
    await asyncio.sleep(state.first_token_delay())
    for i, piece in enumerate(pieces):
        if outcome is Outcome.DISCONNECT and i == plan.disconnect_after:
            raise CutConnection
        if outcome is Outcome.MALFORMED and i == MALFORMED_AFTER:
            yield b"data: {not json\n\n"
        if i:
            await asyncio.sleep(plan.token_interval_s)
        yield chunk({"content": piece})
    if outcome is Outcome.DISCONNECT:
        raise CutConnection  # a reply shorter than ``disconnect_after``
    if outcome is Outcome.MALFORMED and len(pieces) <= MALFORMED_AFTER:
        yield b"data: {not json\n\n"
    yield chunk({}, finish_reason)
    if _mapping(body.get("stream_options")).get("include_usage") and plan.usage_in_stream:
        yield _event({**envelope, "choices": [], "usage": _usage(body, pieces)})
    yield b"data: [DONE]\n\n"


def _pieces(plan: FaultPlan, body: dict[str, Any]) -> tuple[list[str], str]:
    """The reply's pieces, cut at ``max_tokens``, and the finish reason."""
    pieces = split_reply(plan.reply or _default_reply(body))
    limit = body.get("max_tokens")
    if isinstance(limit, int) and len(pieces) > limit:
        return pieces[:limit], "length"
    return pieces, "stop"


def _default_reply(body: dict[str, Any]) -> str:
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    last = str(users[-1].get("content") or "") if users else ""
    return REPLY_JA if _JAPANESE.search(last) else REPLY_EN


def _envelope(body: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": kind,
        "created": CREATED,
        "model": str(body.get("model", "")),
    }


def _usage(body: dict[str, Any], pieces: list[str]) -> dict[str, int]:
    prompt = prompt_tokens(body)
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + len(pieces),
        "completion_tokens": len(pieces),
    }


def _context_message(body: dict[str, Any]) -> str:
    prompt = CONTEXT_WINDOW + prompt_tokens(body)
    completion = body.get("max_tokens") or 0
    return (
        f"This model's maximum context length is {CONTEXT_WINDOW} tokens. However, you requested"
        f" {prompt + completion} tokens ({prompt} in the messages, {completion} in the"
        " completion). Please reduce the length of the messages or completion."
    )


def _error(
    status: int,
    message: str,
    error_type: str,
    code: str | int | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error = {"message": message, "type": error_type, "param": None, "code": code}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _retry_after(plan: FaultPlan) -> dict[str, str]:
    return {} if plan.retry_after_s is None else {"Retry-After": f"{plan.retry_after_s:g}"}


def _event(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


if __name__ == "__main__":
    main(create_app)
