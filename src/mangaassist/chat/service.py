"""The chat pipeline: validate -> cache -> session -> plan -> model -> persist -> events.

Every stage runs under one ``Deadline``. The model router (``llm/router.py``) walks the tier's
chain of models; when none can answer in the time left, the customer gets the catalog-only answer
of the offline responder with ``degraded: true`` instead of an error. Real models' answers pass
the grounding guard (``grounding.py``), which drops sentences naming series outside the prompt.
An answer is only returned once its turn is stored; a streamed answer that fails after part of it
was shown is stored as far as it went and raises ``AnswerInterrupted``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import structlog

from mangaassist.cache.base import CacheUnavailableError, ResponseCache
from mangaassist.catalog.service import CatalogService
from mangaassist.chat.answer import CachedAnswer, ChatAnswer, ChatQuestion
from mangaassist.chat.cache_key import answer_cache_key, is_shareable
from mangaassist.chat.catalog_view import CatalogView
from mangaassist.chat.grounding import GroundingGuard, GroundingRules, allowed_series
from mangaassist.chat.plan import Plan
from mangaassist.chat.planner import ConversationContext, plan_message
from mangaassist.chat.prompts import build_prompt
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.cost import Price, cost_usd
from mangaassist.domain.deadline import Deadline
from mangaassist.domain.history import HistoryBudget
from mangaassist.domain.policy import StorePolicy
from mangaassist.domain.routing import ModelPreference, ModelTier, route_model
from mangaassist.domain.session import Role, Session, Turn
from mangaassist.events.publisher import Event, EventPublisher
from mangaassist.llm.base import ModelMessage, ModelRequest, Usage
from mangaassist.llm.offline import chunk_text
from mangaassist.llm.router import AnswerInterrupted, ModelRouter, Routed
from mangaassist.observability.chat_metrics import ChatMetrics
from mangaassist.store.base import Store
from mangaassist.text.fold import fold
from mangaassist.text.language import detect_language
from mangaassist.text.token_estimate import estimate_tokens
from mangaassist.text.validate import validate_message

__all__ = ["ChatConfig", "ChatService", "DeltaSink"]

#: Receives each piece of an answer's text as it is produced.
DeltaSink = Callable[[str], Awaitable[None]]

log = structlog.get_logger("mangaassist.chat")
#: The source of what the model did (InferenceCompleted), as in the design documents.
AI_SOURCE = "mangaassist.ai"

#: Time kept back from the model for storing the turn and answering.
PERSIST_RESERVE_S = 0.15
#: Earlier turns loaded per message (the history budget then trims them).
MAX_LOADED_TURNS = 40


@dataclass(frozen=True, slots=True)
class ChatConfig:
    """The pipeline's knobs, from settings."""

    deadline_s: float = 3.0
    max_graphemes: int = 4000
    max_bytes: int = 32_000
    history_budget_tokens: int = 6000
    session_idle: timedelta = timedelta(minutes=30)
    cache_ttl_s: float = 300.0
    max_output_tokens: int = 512
    temperature: float = 0.5


class ChatService:
    """Answers customer messages; see the module docstring for the stages."""

    def __init__(
        self,
        *,
        store: Store,
        catalog: CatalogService,
        cache: ResponseCache,
        router: ModelRouter,
        chains: Mapping[ModelTier, tuple[str, ...]],
        guards: Mapping[str, int],
        prices: Mapping[str, Price],
        policy: StorePolicy,
        publisher: EventPublisher,
        metrics: ChatMetrics,
        config: ChatConfig,
    ) -> None:
        self._store = store
        self._catalog = catalog
        self._cache = cache
        self._router = router
        self._chains = chains
        self._tier_models = {tier: chain[0] for tier, chain in chains.items()}
        #: Cost guards by chain entry (settings give them by model id).
        self._guards = {
            key: guards[router.model(key).model_id]
            for chain in chains.values()
            for key in chain
            if router.model(key).model_id in guards
        }
        self._prices = prices
        self._policy = policy
        self._publisher = publisher
        self._metrics = metrics
        self.config = config
        self._history = HistoryBudget(config.history_budget_tokens, estimate_tokens)
        self._view: CatalogView | None = None
        self._view_lock = asyncio.Lock()

    async def _announce(self, event: Event) -> None:
        """Publish without failing the customer's answer: a bus outage is logged loudly."""
        try:
            await self._publisher.publish(event)
        except Exception:
            log.exception("event_not_published", detail_type=event.detail_type, event_id=event.id)

    async def catalog_view(self) -> CatalogView:
        """The planner's view of the current catalog version, rebuilt when the version moves."""
        index = await self._catalog.index()
        view = self._view
        if view is not None and view.version == index.version:
            return view
        async with self._view_lock:
            if self._view is None or self._view.version != index.version:
                self._view = await asyncio.to_thread(CatalogView, index.records, index.version)
            return self._view

    async def answer(
        self, question: ChatQuestion, request_id: str = "", on_delta: DeltaSink | None = None
    ) -> ChatAnswer:
        """Answer one message; bad input raises ``MessageRejected`` or ``TokenBudgetExceeded``."""
        started = time.perf_counter()
        deadline = Deadline(self.config.deadline_s)
        request_id = request_id or uuid.uuid4().hex
        validated = validate_message(
            question.message,
            max_graphemes=self.config.max_graphemes,
            max_bytes=self.config.max_bytes,
        )
        text = validated.text
        language = (
            question.preferred_language
            if question.preferred_language in ("ja", "en")
            else detect_language(text)
        )
        session_id = question.session_id or uuid.uuid4().hex
        await self._announce(
            Event(
                "ChatMessageReceived",
                {"sessionId": session_id, "language": language, "length": validated.graphemes},
            )
        )
        partial: list[str] = []
        intent = ""
        shown: tuple[SeriesRecord, ...] = ()

        async def sink(delta: str) -> None:
            partial.append(delta)
            if on_delta is not None:
                await on_delta(delta)

        try:
            view = await self.catalog_view()
            folded = fold(text)
            shareable = is_shareable(folded) and not question.exclude_ids
            key = answer_cache_key(folded, language, question.model_preference, view.version)
            if shareable:
                cached = await self._cached(key)
                if cached is not None:
                    current = await self._store.get_series_many(cached.product_ids)
                    answer = self._from_cache(
                        cached, current, request_id, session_id, validated.warnings
                    )
                    for chunk in chunk_text(answer.text):
                        await sink(chunk)
                    await self._persist(session_id, text, answer, request_id)
                    return await self._finish(answer, started)
            else:
                self._metrics.cache.labels("bypass").inc()

            session = await self._session(session_id) if question.session_id else None
            turns = list(session.turns) if session else []
            plan = plan_message(text, language, view, ConversationContext.of(turns))
            if question.exclude_ids:
                plan = _without(plan, question.exclude_ids)
            plan = await self._with_current_facts(plan)
            intent, shown = plan.intent.value, plan.products
            try:
                routed, plan = await self._generate(
                    question, text, plan, view, turns, deadline, sink, live=on_delta is not None
                )
            except AnswerInterrupted as exc:
                await self._interrupted(exc, session_id, text, language, plan, request_id, started)
                raise
            completion, degraded = routed.completion, routed.degraded
            shown = plan.products
            answer = ChatAnswer(
                request_id=request_id,
                session_id=session_id,
                text=completion.text,
                language=language,
                intent=plan.intent.value,
                model=completion.model_id,
                cached=False,
                degraded=degraded,
                latency_ms=0,
                input_tokens=completion.usage.input_tokens,
                output_tokens=completion.usage.output_tokens,
                cost_usd=self._cost(completion.model_id, completion.usage),
                products=plan.products,
                warnings=validated.warnings,
                deltas=completion.deltas,
                fallbacks=routed.fallbacks,
                degraded_reason=routed.reason if degraded else "",
            )
            await self._persist(session_id, text, answer, request_id)
            if shareable and not degraded and not plan.used_context:
                await self._remember(key, answer)
            return await self._finish(answer, started)
        except asyncio.CancelledError:
            # The customer pressed stop: the conversation records what they saw, marked cancelled.
            stopped = ChatAnswer(
                request_id, session_id, "".join(partial), language, intent,
                "", False, False, 0, 0, 0, 0.0, shown,
            )  # fmt: skip
            await asyncio.shield(self._persist(session_id, text, stopped, request_id, True))
            raise

    async def _cached(self, key: str) -> CachedAnswer | None:
        try:
            raw = await self._cache.get(key)
        except CacheUnavailableError:
            log.warning("cache_unavailable")
            raw = None
        self._metrics.cache.labels("hit" if raw is not None else "miss").inc()
        return None if raw is None else CachedAnswer.from_bytes(raw)

    def _from_cache(
        self,
        cached: CachedAnswer,
        current: Mapping[str, SeriesRecord],
        request_id: str,
        session_id: str,
        warnings: tuple[str, ...],
    ) -> ChatAnswer:
        return ChatAnswer(
            request_id=request_id,
            session_id=session_id,
            text=cached.text,
            language=cached.language,
            intent=cached.intent,
            model=cached.model,
            cached=True,
            degraded=False,
            latency_ms=0,
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            products=tuple(current[i] for i in cached.product_ids if i in current),
            warnings=warnings,
        )

    async def _with_current_facts(self, plan: Plan) -> Plan:
        """The plan with its series re-read from the store.

        The in-memory catalog view may lag the store by ``catalog_refresh_s`` in a process that
        did not make a change; stock and price must not, so answers quote the store's rows.
        """
        named = [*plan.products, *(r for r in (plan.focus, plan.similar_to) if r is not None)]
        if not named:
            return plan
        current = await self._store.get_series_many(list(dict.fromkeys(r.id for r in named)))
        return replace(
            plan,
            products=tuple(current[r.id] for r in plan.products if r.id in current),
            focus=current.get(plan.focus.id) if plan.focus else None,
            similar_to=current.get(plan.similar_to.id, plan.similar_to)
            if plan.similar_to
            else None,
        )

    async def _remember(self, key: str, answer: ChatAnswer) -> None:
        entry = CachedAnswer(
            answer.text,
            answer.language,
            answer.intent,
            answer.model,
            tuple(p.id for p in answer.products),
            answer.input_tokens,
            answer.output_tokens,
        )
        try:
            await self._cache.put(
                key,
                entry.to_bytes(),
                product_ids=entry.product_ids,
                ttl_s=self.config.cache_ttl_s,
            )
        except CacheUnavailableError:
            log.warning("cache_unavailable")

    async def _session(self, session_id: str) -> Session | None:
        session = await self._store.get_session(session_id, max_turns=MAX_LOADED_TURNS)
        if session is not None and session.is_expired(datetime.now(UTC), self.config.session_idle):
            await self._store.delete_session(session_id)  # idle too long: a fresh conversation
            return None
        return session

    async def _generate(
        self,
        question: ChatQuestion,
        text: str,
        plan: Plan,
        view: CatalogView,
        turns: list[Turn],
        deadline: Deadline,
        sink: DeltaSink,
        *,
        live: bool,
    ) -> tuple[Routed, Plan]:
        """The routed answer, and the plan as the model saw it (series past the genre's
        context cap left out)."""
        prompt = build_prompt(plan, self._policy, estimate_tokens)
        plan = replace(plan, products=prompt.products)
        message_tokens = estimate_tokens(text)
        history = self._history.select(
            turns, reserved=message_tokens + estimate_tokens(prompt.system)
        )
        history_tokens = self._history.cost(history)
        tokens = message_tokens + history_tokens
        route = route_model(
            ModelPreference(question.model_preference),
            intent=plan.intent.value,
            message_tokens=message_tokens,
            history_tokens=history_tokens,
            tier_models=self._tier_models,
            guards=self._guards,
        )
        chain = [key for key in self._chains[route.tier] if tokens <= self._guards.get(key, tokens)]
        request = ModelRequest(
            system=prompt.system,
            messages=(
                *(ModelMessage(t.role.value, t.text) for t in history),
                ModelMessage("user", text),
            ),
            max_tokens=question.max_tokens or self.config.max_output_tokens,
            temperature=(
                question.temperature
                if question.temperature is not None
                else self.config.temperature
            ),
            grounding=plan,
        )
        rules = GroundingRules(
            view, allowed_series(plan.products, (plan.focus, plan.similar_to)), text
        )
        routed = await self._router.generate(
            request,
            chain,
            deadline.capped(deadline.remaining() - PERSIST_RESERVE_S),
            sink,
            live=live,
            guard=lambda: GroundingGuard(rules),
        )
        if routed.degraded:
            self._metrics.degraded.labels(routed.reason or "deadline").inc()
        return routed, plan

    async def _interrupted(
        self,
        exc: AnswerInterrupted,
        session_id: str,
        text: str,
        language: str,
        plan: Plan,
        request_id: str,
        started: float,
    ) -> None:
        """Store and report a streamed answer that failed after part of it was shown."""
        self._metrics.degraded.labels("interrupted").inc()
        partial = exc.completion
        answer = ChatAnswer(
            request_id, session_id, partial.text, language, plan.intent.value, partial.model_id,
            False, True, 0, partial.usage.input_tokens, partial.usage.output_tokens,
            self._cost(partial.model_id, partial.usage), plan.products,
            degraded_reason=f"interrupted:{exc.reason}",
        )  # fmt: skip
        await self._persist(session_id, text, answer, request_id, cancelled=True)
        await self._finish(answer, started, status="failed")

    def _cost(self, model_id: str, usage: Usage) -> float:
        return cost_usd(model_id, usage.input_tokens, usage.output_tokens, self._prices)

    async def _persist(
        self,
        session_id: str,
        text: str,
        answer: ChatAnswer,
        request_id: str,
        cancelled: bool = False,
    ) -> None:
        now = datetime.now(UTC)
        product_ids = tuple(p.id for p in answer.products)
        await self._store.append_turns(
            session_id,
            [
                Turn(Role.USER, text, now, answer.language, answer.intent, (), answer.input_tokens,
                     request_id),
                Turn(Role.ASSISTANT, answer.text, now, answer.language, answer.intent, product_ids,
                     answer.output_tokens, request_id, cancelled),
            ],
            now=now,
        )  # fmt: skip

    async def _finish(self, answer: ChatAnswer, started: float, status: str = "") -> ChatAnswer:
        elapsed = time.perf_counter() - started
        latency_ms = round(elapsed * 1000)
        self._metrics.observe(
            model=answer.model,
            cached=answer.cached,
            seconds=elapsed,
            input_tokens=answer.input_tokens,
            output_tokens=answer.output_tokens,
            cost_usd=answer.cost_usd,
            intent=answer.intent,
        )
        await self._announce(
            Event(
                "InferenceCompleted",
                {
                    "status": status or ("degraded" if answer.degraded else "success"),
                    "sessionId": answer.session_id,
                    "requestId": answer.request_id,
                    "model": answer.model,
                    "intent": answer.intent,
                    "cached": answer.cached,
                    "degraded": answer.degraded,
                    "inputTokens": answer.input_tokens,
                    "outputTokens": answer.output_tokens,
                    "latencyMs": latency_ms,
                    "costUsd": answer.cost_usd,
                    "fallbacks": answer.fallbacks,
                    "degradedReason": answer.degraded_reason,
                },
                source=AI_SOURCE,
            )
        )
        return _with_latency(answer, latency_ms)


def _with_latency(answer: ChatAnswer, latency_ms: int) -> ChatAnswer:
    return replace(answer, latency_ms=latency_ms)


def _without(plan: Plan, exclude_ids: tuple[str, ...]) -> Plan:
    excluded = set(exclude_ids)
    return replace(plan, products=tuple(p for p in plan.products if p.id not in excluded))
