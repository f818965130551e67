"""A fake Amazon Bedrock runtime: Converse, ConverseStream and CountTokens over real HTTP.

Real botocore talks to it through ``endpoint_url`` (``bedrock+http://KEY:SECRET@HOST:PORT``), so
every byte a ``BedrockModel`` parses went over a socket: JSON bodies, error headers
(``x-amzn-ErrorType``, ``Retry-After``) and ConverseStream's binary event stream, encoded here
as AWS does (``event_frame``): a prelude of total and header lengths with its CRC32, typed
headers, a JSON payload, and a CRC32 of the whole message. Signatures are not checked.

Each call takes the next ``Outcome`` of the ``FaultPlan`` (``faults.py``). Run it alone with
``python -m tests.model_servers.bedrock --port 8701 --plan '{"rates": {"throttle": 0.1}}'``.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import struct
import time
import uuid
import zlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from tests.model_servers.faults import (
    FakeModelState,
    Outcome,
    add_control_routes,
    split_reply,
)
from tests.model_servers.runner import main

__all__ = ["create_app", "estimate_tokens", "event_frame", "reply_text"]

EVENT_STREAM = "application/vnd.amazon.eventstream"
STREAMING = "ConverseStream"
REPLY_JA = "ご質問ありがとうございます。在庫を確認してご案内いたします。"
REPLY_EN = "Thanks for your question. Let me check the catalog for you."
#: Deltas a MALFORMED stream sends before its broken frame.
MALFORMED_AFTER = 2
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_HEADER_STRING = 7  # event-stream header value type: UTF-8 string with a 2-byte length
_ERROR_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


class CutConnection(Exception):  # noqa: N818 - it is what the fake does, not an error
    """Raised inside a response body: uvicorn then drops the connection mid-response."""


def estimate_tokens(text: str) -> int:
    """The fake's token count: one per 4 ASCII characters, one per other character."""
    ascii_chars = sum(1 for char in text if char.isascii())
    return math.ceil(ascii_chars / 4) + (len(text) - ascii_chars)


def event_frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, prelude CRC, headers, payload, message CRC."""
    encoded = b""
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        encoded += struct.pack("!B", len(raw_name)) + raw_name
        encoded += struct.pack("!BH", _HEADER_STRING, len(raw_value)) + raw_value
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def _event(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return event_frame(headers, json.dumps(body, ensure_ascii=False).encode())


def _texts(body: dict[str, Any]) -> list[str]:
    """Every text of a Converse request body: system blocks, then message blocks."""
    texts = [block.get("text", "") for block in body.get("system", [])]
    for message in body.get("messages", []):
        texts += [block.get("text", "") for block in message.get("content", [])]
    return [t for t in texts if isinstance(t, str)]


def reply_text(body: dict[str, Any], planned: str) -> str:
    """The planned reply, else a fixed one in the language of the last user message."""
    if planned:
        return planned
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    last = " ".join(b.get("text", "") for b in users[-1].get("content", [])) if users else ""
    return REPLY_JA if _JAPANESE.search(last) else REPLY_EN


def _usage(body: dict[str, Any], reply: str) -> dict[str, int]:
    input_tokens = sum(estimate_tokens(t) for t in _texts(body))
    output_tokens = estimate_tokens(reply)
    return {
        "inputTokens": input_tokens,
        "outputTokens": output_tokens,
        "totalTokens": input_tokens + output_tokens,
    }


def _error(status: int, code: str, message: str, retry_after_s: float | None = None) -> Response:
    headers = {"x-amzn-ErrorType": code + _ERROR_SUFFIX, "x-amzn-RequestId": str(uuid.uuid4())}
    if retry_after_s is not None:
        headers["Retry-After"] = f"{retry_after_s:g}"
    return JSONResponse({"message": message}, status_code=status, headers=headers)


def _refusal(outcome: Outcome, state: FakeModelState) -> Response | None:
    """The error response of an outcome that refuses the call outright, else None."""
    retry_after = state.plan.retry_after_s
    if outcome is Outcome.THROTTLE:
        message = "Too many requests, please wait before trying again."
        return _error(429, "ThrottlingException", message, retry_after)
    if outcome is Outcome.OVERLOADED:
        message = "The service is unavailable. Please try again later."
        return _error(503, "ServiceUnavailableException", message, retry_after)
    if outcome is Outcome.AUTH:
        message = "You don't have access to the model with the specified model ID."
        return _error(403, "AccessDeniedException", message)
    if outcome is Outcome.CONTEXT:
        return _error(400, "ValidationException", "Input is too long for requested model.")
    if outcome is Outcome.INVALID:
        message = "The provided request is not valid: temperature must be at most 1."
        return _error(400, "ValidationException", message)
    return None


def create_app(state: FakeModelState) -> FastAPI:
    """The fake bedrock-runtime, driven by ``state``'s plan."""
    app = FastAPI(title="fake bedrock-runtime")
    add_control_routes(app, state)

    async def begin(request: Request, model_id: str, operation: str) -> tuple[Outcome, Any]:
        body = await request.json()
        outcome = state.record({"model_id": model_id, "operation": operation, "body": body})
        # A stream stalls after its first event; any other call stalls before its status line.
        if outcome is Outcome.TIMEOUT or (outcome is Outcome.STALL and operation != STREAMING):
            await state.hang()  # then answers late, as a slow server does
        return outcome, body

    @app.post("/model/{model_id:path}/converse")
    async def converse(model_id: str, request: Request) -> Response:
        started = time.monotonic()
        outcome, body = await begin(request, model_id, "Converse")
        refused = _refusal(outcome, state)
        if refused is not None:
            return refused
        if outcome is Outcome.MALFORMED:
            return Response(b'{"output": {"message": ', media_type="application/json")
        await asyncio.sleep(state.first_token_delay())
        reply = reply_text(body, state.plan.reply)
        answer = json.dumps(
            {
                "output": {"message": {"role": "assistant", "content": [{"text": reply}]}},
                "stopReason": "end_turn",
                "usage": _usage(body, reply),
                "metrics": {"latencyMs": int((time.monotonic() - started) * 1000)},
            },
            ensure_ascii=False,
        ).encode()
        if outcome is Outcome.DISCONNECT:
            return _cut_body(answer)
        return Response(answer, media_type="application/json")

    @app.post("/model/{model_id:path}/converse-stream")
    async def converse_stream(model_id: str, request: Request) -> Response:
        started = time.monotonic()
        outcome, body = await begin(request, model_id, STREAMING)
        refused = _refusal(outcome, state)
        if refused is not None:
            return refused
        frames = _stream(state, outcome, body, started)
        headers = {"x-amzn-RequestId": str(uuid.uuid4())}
        return StreamingResponse(frames, media_type=EVENT_STREAM, headers=headers)

    @app.post("/model/{model_id:path}/count-tokens")
    async def count_tokens(model_id: str, request: Request) -> Response:
        outcome, body = await begin(request, model_id, "CountTokens")
        refused = _refusal(outcome, state)
        if refused is not None:
            return refused
        converse = body.get("input", {}).get("converse", {})
        count = sum(estimate_tokens(t) for t in _texts(converse))
        return JSONResponse({"inputTokens": count})

    return app


async def _stream(
    state: FakeModelState, outcome: Outcome, body: dict[str, Any], started: float
) -> AsyncIterator[bytes]:
    """ConverseStream's events for ``outcome``."""
    plan = state.plan
    yield _event("messageStart", {"role": "assistant"})
    if outcome is Outcome.STALL:
        await state.hang()  # the tokens come after hang_s, long after the client gave up
    await asyncio.sleep(state.first_token_delay())
    reply = reply_text(body, plan.reply)
    pieces = split_reply(reply)
    if outcome is Outcome.DISCONNECT:
        pieces = pieces[: plan.disconnect_after]
    elif outcome is Outcome.MALFORMED:
        pieces = pieces[:MALFORMED_AFTER]
    for index, piece in enumerate(pieces):
        if index and plan.token_interval_s:
            await asyncio.sleep(plan.token_interval_s)
        yield _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": piece}})
    if outcome is Outcome.MALFORMED:
        frame = bytearray(_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {}}))
        frame[-1] ^= 0xFF  # a message CRC that does not match its bytes
        yield bytes(frame)
        return
    if outcome is Outcome.DISCONNECT:
        raise CutConnection(f"cut after {len(pieces)} deltas")
    yield _event("contentBlockStop", {"contentBlockIndex": 0})
    yield _event("messageStop", {"stopReason": "end_turn"})
    latency_ms = int((time.monotonic() - started) * 1000)
    yield _event("metadata", {"usage": _usage(body, reply), "metrics": {"latencyMs": latency_ms}})


def _cut_body(answer: bytes) -> Response:
    """A response that announces ``answer`` and sends half of it before the connection drops."""

    async def half() -> AsyncIterator[bytes]:
        yield answer[: len(answer) // 2]
        raise CutConnection("cut in the middle of the body")

    headers = {"content-length": str(len(answer))}
    return StreamingResponse(half(), media_type="application/json", headers=headers)


if __name__ == "__main__":
    main(create_app)
