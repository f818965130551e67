"""The model router: an answer inside the deadline, whichever models are up.

Settings map each tier to a chain of models, for example quality: Bedrock Sonnet -> Bedrock
Haiku -> offline. For one answer the router walks the chain:

* a model whose circuit breaker is open is skipped (see ``breaker.py``);
* each call gets a first-token deadline (a model that has sent nothing by then is abandoned for
  the next one), a read timeout of ``min(25 s, 10 s + input tokens / 1000)`` (the design
  documents' adaptive timeout), capped by the time left unless the answer streams live (the
  deadline then bounds its start, not its length), and at most ``idle_s`` between tokens;
* a transient failure (throttled, timeout, overloaded, malformed) is retried on the same model
  after a jittered backoff (longer when the provider sent ``Retry-After``) only while the deadline
  leaves time for it; any failure then moves on to the next model;
* when no model can answer in time, the offline responder answers from the catalog alone and the
  answer is marked ``degraded``.

Streaming answers (``live``) reach the customer as they are generated. Before the first piece is
shown a failure is invisible and the router simply moves on; once text has been shown, a failure
raises ``AnswerInterrupted`` carrying what was shown, so the stream ends with an ``error`` event
and never with a silent cut. A guard (``TextFilter``) may hold text back and drop sentences; an
answer of which nothing survives falls back like a failure.

A model failure never escapes as anything but ``AnswerInterrupted``: adapters' unexpected
exceptions count as malformed responses.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog

from mangaassist.domain.deadline import Deadline
from mangaassist.llm.base import (
    ChatModel,
    Completion,
    ErrorKind,
    ModelError,
    ModelMalformedResponse,
    ModelOverloaded,
    ModelRequest,
    ModelTimeout,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
)
from mangaassist.llm.breaker import BreakerBoard
from mangaassist.observability.model_metrics import ModelMetrics

__all__ = [
    "AnswerInterrupted",
    "DeltaSink",
    "ModelRouter",
    "Routed",
    "RoutedModel",
    "RouterPolicy",
    "TextFilter",
    "read_timeout_s",
]

log = structlog.get_logger("mangaassist.llm")

#: Receives each piece of an answer's text as it is produced.
DeltaSink = Callable[[str], Awaitable[None]]


class TextFilter(Protocol):
    """Sits between a model's deltas and the customer (the chat's grounding guard)."""

    dropped: list[str]

    def feed(self, delta: str) -> list[str]: ...
    def flush(self) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class RouterPolicy:
    """Timing of the router; see the module docstring."""

    #: Longest wait for a model's first token (also at most half the time left).
    first_token_s: float = 1.5
    #: Calls per model per answer (the first and its retries).
    attempts_per_model: int = 2
    #: Backoff before a retry: a random share of ``base * 2**(retry - 1)``, at most ``max``.
    backoff_base_s: float = 0.05
    backoff_max_s: float = 1.0
    #: A call is not started with less time left than this.
    min_attempt_s: float = 0.25
    #: Longest silence between two tokens once an answer streams.
    idle_s: float = 5.0
    #: Adaptive read timeout: ``min(max, base + input tokens / 1000)``.
    read_timeout_base_s: float = 10.0
    read_timeout_max_s: float = 25.0


def read_timeout_s(input_tokens: int, time_left: float, policy: RouterPolicy) -> float:
    """The design documents' adaptive timeout, capped by the time left."""
    adaptive = min(policy.read_timeout_max_s, policy.read_timeout_base_s + input_tokens / 1000)
    return max(0.0, min(adaptive, time_left))


@dataclass(frozen=True, slots=True)
class Routed:
    """The answer and how it was reached."""

    completion: Completion
    #: Answered by the offline responder because the chain's models could not.
    degraded: bool = False
    #: Why the first model of the chain did not answer ("" when it did).
    reason: str = ""
    #: Models passed over before the one that answered.
    fallbacks: int = 0
    #: Sentences the guard dropped.
    dropped: int = 0


class AnswerInterrupted(Exception):  # noqa: N818 - named for what the customer sees
    """A streamed answer failed after part of it was shown; ``completion`` holds that part."""

    def __init__(self, completion: Completion, reason: str) -> None:
        super().__init__(f"{completion.model_id} failed mid-answer: {reason}")
        self.completion = completion
        self.reason = reason


class _Attempt:
    """One call's output on its way to the customer (held back unless the answer is live)."""

    def __init__(self, sink: DeltaSink | None, live: bool, guard: TextFilter | None) -> None:
        self._sink = sink
        self._live = live
        self.guard = guard
        self.raw: list[str] = []
        self.shown: list[str] = []
        self.held: list[str] = []

    async def delta(self, text: str) -> None:
        self.raw.append(text)
        for piece in self.guard.feed(text) if self.guard else [text]:
            await self._emit(piece)

    async def finish(self) -> None:
        for piece in self.guard.flush() if self.guard else []:
            await self._emit(piece)
        if not self._live and self._sink is not None:
            for piece in self.held:
                await self._sink(piece)

    async def _emit(self, piece: str) -> None:
        if self._live:
            self.shown.append(piece)
            if self._sink is not None:
                await self._sink(piece)
        else:
            self.held.append(piece)

    @property
    def pieces(self) -> list[str]:
        return self.shown if self._live else self.held


class ModelRouter:
    """Answers a request with the first model of a chain that can; see the module docstring."""

    def __init__(
        self,
        models: Mapping[str, ChatModel],
        fallback: ChatModel,
        *,
        breakers: BreakerBoard,
        estimate_tokens: Callable[[str], int],
        policy: RouterPolicy | None = None,
        metrics: ModelMetrics | None = None,
        jitter: Callable[[], float] = random.random,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._models = models
        self._fallback = fallback
        self._breakers = breakers
        self._estimate = estimate_tokens
        self.policy = policy or RouterPolicy()
        self._metrics = metrics
        self._jitter = jitter
        self._sleep = sleep

    def model(self, key: str) -> ChatModel:
        """The model of a chain entry (the offline responder for ``offline``)."""
        return self._models.get(key, self._fallback)

    def is_offline(self, key: str) -> bool:
        """True for the offline responder's chain entry."""
        model = self._models.get(key)
        return model is None or model.model_id == self._fallback.model_id

    async def generate(
        self,
        request: ModelRequest,
        chain: Sequence[str],
        deadline: Deadline,
        sink: DeltaSink | None = None,
        *,
        live: bool = False,
        guard: Callable[[], TextFilter] | None = None,
    ) -> Routed:
        """The answer from the first model of ``chain`` that gives one in time, else offline.

        ``sink`` receives the answer's pieces: as they come when ``live``, else once the answer
        is settled. Raises ``AnswerInterrupted`` only when ``live`` text was already shown.
        """
        input_tokens = self._estimate(request.system) + sum(
            self._estimate(m.text) for m in request.messages
        )
        reason = ""
        passed = 0
        for key in chain:
            if self.is_offline(key):
                break
            outcome = await self._try_model(key, request, input_tokens, deadline, sink, live, guard)
            if isinstance(outcome, Routed):
                return Routed(
                    outcome.completion,
                    reason=reason,
                    fallbacks=passed,
                    dropped=outcome.dropped,
                )
            reason = reason or outcome
            passed += 1
            if self._metrics:
                self._metrics.fallbacks.labels(key, outcome).inc()
        degraded = bool(chain) and not self.is_offline(chain[0])
        completion = await _collect(self._fallback, request, sink)
        return Routed(completion, degraded=degraded, reason=reason, fallbacks=passed)

    async def _try_model(
        self,
        key: str,
        request: ModelRequest,
        input_tokens: int,
        deadline: Deadline,
        sink: DeltaSink | None,
        live: bool,
        guard: Callable[[], TextFilter] | None,
    ) -> Routed | str:
        """The model's answer, or why it has none (a reason label)."""
        model = self._models[key]
        breaker = self._breakers[key]
        policy = self.policy
        for attempt in range(1, policy.attempts_per_model + 1):
            time_left = deadline.remaining()
            if time_left < policy.min_attempt_s:
                self._skipped(key, "deadline")
                return "deadline"
            if not breaker.allow():
                self._skipped(key, "breaker_open")
                return "breaker_open"
            if attempt > 1 and self._metrics:
                self._metrics.retries.labels(key).inc()
            # A live answer must start within the deadline; once it flows it may take the
            # adaptive read timeout to finish (a long answer streams for longer than 3 s).
            timeout = read_timeout_s(input_tokens, math.inf if live else time_left, policy)
            first_token = min(policy.first_token_s, time_left / 2)
            current = _Attempt(sink, live, guard() if guard else None)
            try:
                completion = await self._call(key, model, request, timeout, first_token, current)
            except asyncio.CancelledError:
                breaker.release()
                raise
            except ModelError as exc:
                self._failed(key, exc)
                if exc.transient or exc.kind == ErrorKind.AUTH:
                    breaker.record_failure()
                else:
                    breaker.release()
                if current.shown:
                    raise AnswerInterrupted(
                        _partial(model.model_id, input_tokens, current.shown, self._estimate),
                        exc.kind.value,
                    ) from exc
                first_token_missed = isinstance(exc, ModelTimeout) and not current.raw
                last_attempt = attempt == policy.attempts_per_model
                if not exc.transient or first_token_missed or last_attempt:
                    return exc.kind.value
                delay = self._backoff(attempt, exc.retry_after_s)
                if deadline.remaining() - delay < policy.min_attempt_s:
                    return exc.kind.value
                await self._sleep(delay)
                continue
            breaker.record_success()
            dropped = len(current.guard.dropped) if current.guard else 0
            if dropped and self._metrics:
                self._metrics.ungrounded.labels(key).inc(dropped)
            if not current.pieces:
                return "ungrounded"  # nothing survived the guard: nothing was shown either
            return Routed(completion, dropped=dropped)
        raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

    async def _call(
        self,
        key: str,
        model: ChatModel,
        request: ModelRequest,
        timeout_s: float,
        first_token_s: float,
        current: _Attempt,
    ) -> Completion:
        """One call under the first-token and read timeouts; the answer as shown."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        end: StreamEnd | None = None
        try:
            async with asyncio.timeout(first_token_s) as scope:
                stream = model.stream(request)
                try:
                    async for event in stream:
                        if isinstance(event, TextDelta):
                            now = loop.time()
                            if not current.raw and self._metrics:
                                self._metrics.first_token.labels(key).observe(now - started)
                            # Each token buys at most ``idle_s`` more, never past the timeout.
                            scope.reschedule(min(started + timeout_s, now + self.policy.idle_s))
                            await current.delta(event.text)
                        else:
                            end = event
                finally:
                    if isinstance(stream, AsyncGenerator):
                        await stream.aclose()
        except TimeoutError:
            waited = "a first token" if not current.raw else "the rest of the answer"
            raise ModelTimeout(
                f"{model.model_id} sent no {waited} within the time allowed",
                model_id=model.model_id,
            ) from None
        except (ModelError, asyncio.CancelledError):
            raise
        except Exception as exc:  # an adapter's bug must not become the customer's 5xx
            log.exception("model_adapter_failed", model=key)
            raise ModelMalformedResponse(str(exc), model_id=model.model_id) from exc
        finally:
            if self._metrics:
                self._metrics.latency.labels(key).observe(loop.time() - started)
        if end is None:
            raise ModelMalformedResponse(
                f"{model.model_id} ended its stream without usage", model_id=model.model_id
            )
        if not "".join(current.raw).strip():
            raise ModelMalformedResponse(
                f"{model.model_id} answered nothing", model_id=model.model_id
            )
        await current.finish()
        if self._metrics:
            self._metrics.calls.labels(key, "ok").inc()
        return Completion(
            "".join(current.pieces),
            end.usage,
            model.model_id,
            end.stop_reason,
            tuple(current.pieces),
        )

    def _failed(self, key: str, exc: ModelError) -> None:
        log.warning("model_call_failed", model=key, kind=exc.kind.value, error=str(exc))
        if self._metrics:
            self._metrics.calls.labels(key, exc.kind.value).inc()
            self._metrics.errors.labels(key, exc.kind.value).inc()

    def _backoff(self, attempt: int, retry_after_s: float | None) -> float:
        growth: float = 2.0 ** (attempt - 1)
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * growth)
        delay = self._jitter() * ceiling
        return max(delay, retry_after_s or 0.0)

    def _skipped(self, key: str, reason: str) -> None:
        if self._metrics:
            self._metrics.skipped.labels(key, reason).inc()


class RoutedModel(ChatModel):
    """A chain behind the model port, for callers that want one model (catalog analysis).

    It answers with the first model of the chain that can within ``deadline_s``. When only the
    offline responder could, it raises ``ModelOverloaded`` instead, so a batch job retries later
    rather than storing a catalog-only analysis; a chain that starts with ``offline`` answers
    offline as configured.
    """

    def __init__(self, router: ModelRouter, chain: Sequence[str], deadline_s: float) -> None:
        self._router = router
        self._chain = tuple(chain)
        self._deadline_s = deadline_s
        self.model_id = router.model(self._chain[0]).model_id

    async def complete(self, request: ModelRequest) -> Completion:
        routed = await self._router.generate(request, self._chain, Deadline(self._deadline_s))
        if routed.degraded:
            raise ModelOverloaded(
                f"no model of the chain answered ({routed.reason})", model_id=self.model_id
            )
        return routed.completion

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        completion = await self.complete(request)
        for delta in completion.deltas:
            yield TextDelta(delta)
        yield StreamEnd(completion.usage, completion.stop_reason)


def _partial(
    model_id: str, input_tokens: int, shown: list[str], estimate: Callable[[str], int]
) -> Completion:
    text = "".join(shown)
    return Completion(
        text, Usage(input_tokens, estimate(text)), model_id, "interrupted", tuple(shown)
    )


async def _collect(model: ChatModel, request: ModelRequest, sink: DeltaSink | None) -> Completion:
    """Run the offline responder, handing each delta to ``sink``."""
    deltas: list[str] = []
    end: StreamEnd | None = None
    async for event in model.stream(request):
        if isinstance(event, TextDelta):
            deltas.append(event.text)
            if sink is not None:
                await sink(event.text)
        else:
            end = event
    usage = end.usage if end else Usage(0, 0)
    reason = end.stop_reason if end else "end_turn"
    return Completion("".join(deltas), usage, model.model_id, reason, tuple(deltas))
