"""Streaming answers: each generation runs as a task of its own, writing numbered events into the
resumable buffer; connections (WebSocket, SSE) only follow the buffer.

A customer whose train enters a tunnel loses the connection, not the answer: generation goes on,
the answer is stored in the session, and a reconnect (to any API process when the buffer is
Redis) resumes after the last delta it saw. Only an explicit cancel stops a generation.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import structlog

from mangaassist.chat.answer import ChatAnswer, ChatQuestion
from mangaassist.chat.service import ChatService
from mangaassist.domain.routing import TokenBudgetExceeded
from mangaassist.llm.router import AnswerInterrupted
from mangaassist.observability.stream_metrics import StreamMetrics
from mangaassist.stream.buffer import BufferedEvent, DeltaBuffer
from mangaassist.text.validate import MessageRejected, validate_message

__all__ = ["StartedMessage", "StreamRejected", "StreamingChat"]

log = structlog.get_logger("mangaassist.stream")

#: Renders a finished answer as the JSON object ``POST /v1/chat`` returns.
AnswerRenderer = Callable[[ChatAnswer], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class StartedMessage:
    """A generation that runs (or ran): its ids, and whether a retry found it already started."""

    message_id: str
    session_id: str
    request_id: str
    duplicate: bool = False


class StreamRejected(ValueError):  # noqa: N818 - named for the outcome, like MessageRejected
    """The message cannot be answered: a stable code and the message's parameters."""

    def __init__(self, code: str, params: dict[str, object]) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class StreamingChat:
    """Starts, follows and cancels streamed answers."""

    def __init__(
        self,
        chat: ChatService,
        buffer: DeltaBuffer,
        render: AnswerRenderer,
        metrics: StreamMetrics,
    ) -> None:
        self._chat = chat
        self._buffer = buffer
        self._render = render
        self._metrics = metrics
        self._running: dict[str, asyncio.Task[None]] = {}

    async def start(
        self,
        question: ChatQuestion,
        request_id: str = "",
        client_message_id: str | None = None,
    ) -> StartedMessage:
        """Validate and start generating; a repeated ``client_message_id`` returns the first
        generation instead of starting another (retries after a drop must not answer twice)."""
        config = self._chat.config
        try:
            validate_message(
                question.message, max_graphemes=config.max_graphemes, max_bytes=config.max_bytes
            )
        except MessageRejected as exc:
            raise StreamRejected(exc.code, dict(exc.params)) from None
        session_id = question.session_id or uuid.uuid4().hex
        request_id = request_id or uuid.uuid4().hex
        message_id = uuid.uuid4().hex
        if client_message_id:
            first = await self._buffer.alias(f"{session_id}:{client_message_id}", message_id)
            if first != message_id:
                return StartedMessage(first, session_id, request_id, duplicate=True)
        await self._buffer.open(message_id, {"sessionId": session_id, "requestId": request_id})
        task = asyncio.create_task(
            self._generate(message_id, replace(question, session_id=session_id), request_id)
        )
        self._running[message_id] = task
        task.add_done_callback(lambda _: self._running.pop(message_id, None))
        return StartedMessage(message_id, session_id, request_id)

    async def _generate(self, message_id: str, question: ChatQuestion, request_id: str) -> None:
        started = time.perf_counter()
        first = True

        async def on_delta(text: str) -> None:
            nonlocal first
            if first:
                self._metrics.first_delta.observe(time.perf_counter() - started)
                first = False
            await self._buffer.append(message_id, "delta", {"text": text})

        try:
            answer = await self._chat.answer(question, request_id, on_delta)
            await self._buffer.append(message_id, "done", {"answer": self._render(answer)})
        except asyncio.CancelledError:
            await asyncio.shield(self._buffer.append(message_id, "cancelled", {}))
            raise
        except MessageRejected as exc:
            await self._buffer.append(message_id, "error", {"code": exc.code, **exc.params})
        except AnswerInterrupted:
            # Part of the answer was shown and the model failed: say so, never end silently.
            await self._buffer.append(message_id, "error", {"code": "ANSWER_INTERRUPTED"})
        except TokenBudgetExceeded as exc:
            await self._buffer.append(
                message_id,
                "error",
                {"code": "TOKEN_BUDGET_EXCEEDED", "tokens": exc.tokens, "limit": exc.limit},
            )
        except Exception:  # the stream must end with a final event whatever went wrong
            log.exception("generation_failed", message_id=message_id)
            await self._buffer.append(message_id, "error", {"code": "INTERNAL_ERROR"})

    def follow(self, message_id: str, after_seq: int = 0) -> AsyncIterator[BufferedEvent]:
        """Every event after ``after_seq`` exactly once, live until the final one."""
        return self._buffer.follow(message_id, after_seq)

    async def exists(self, message_id: str) -> bool:
        """True while the message is within the resume window."""
        return await self._buffer.meta(message_id) is not None

    async def cancel(self, message_id: str) -> bool:
        """Stop a generation running in this process; False when none is."""
        task = self._running.get(message_id)
        if task is None or task.done():
            return False
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return True

    async def close(self) -> None:
        """Let running generations finish (their answers are stored) before shutdown."""
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)
