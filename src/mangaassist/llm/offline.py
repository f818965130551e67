"""The offline responder: answers from the catalog plan, with no external model.

It is what answers when no model server is configured, and what the router falls back to when
every real model fails: fast, free, and never naming a series that is not in the plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import regex

from mangaassist.chat.plan import Intent, Plan
from mangaassist.domain.policy import StorePolicy
from mangaassist.llm.base import ChatModel, ModelRequest, StreamEnd, StreamEvent, TextDelta, Usage
from mangaassist.llm.render_analysis import render_analysis
from mangaassist.llm.render_en import render_en
from mangaassist.llm.render_ja import render_ja

__all__ = ["OFFLINE_MODEL_ID", "OfflineModel", "chunk_text"]

OFFLINE_MODEL_ID = "offline"
#: Most grapheme clusters per streamed delta.
CHUNK_GRAPHEMES = 24
_BREAK_AFTER = frozenset("、。！？!?,.\n")
_GRAPHEMES = regex.compile(r"\X")


def chunk_text(text: str, size: int = CHUNK_GRAPHEMES) -> list[str]:
    """Split an answer into deltas after punctuation or every ``size`` graphemes.

    Works on grapheme clusters, so an emoji sequence, a flag or a character with its combining
    mark or variation selector (「！️」) always arrives in one piece.
    """
    chunks: list[str] = []
    current: list[str] = []
    for grapheme in _GRAPHEMES.findall(text):
        current.append(grapheme)
        if grapheme[0] in _BREAK_AFTER or len(current) >= size:
            chunks.append("".join(current))
            current = []
    if current:
        chunks.append("".join(current))
    return chunks


class OfflineModel(ChatModel):
    """Renders the plan in the request's grounding, in Japanese keigo or English, or answers an
    analysis task with JSON from the catalog record."""

    model_id = OFFLINE_MODEL_ID

    def __init__(
        self,
        policy: StorePolicy,
        estimate_tokens: Callable[[str], int],
        delta_delay_s: float = 0.0,
    ) -> None:
        self._policy = policy
        self._estimate = estimate_tokens
        self._delay = delta_delay_s

    def answer_text(self, request: ModelRequest) -> str:
        """The answer text for ``request``: JSON for an analysis task, else the chat answer."""
        if request.task is not None:
            return render_analysis(request.task)
        plan = request.grounding or Plan(Intent.UNKNOWN, "en")
        if plan.language == "ja":
            return render_ja(plan, self._policy)
        return render_en(plan, self._policy)

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        text = self.answer_text(request)
        for i, chunk in enumerate(chunk_text(text)):
            if i and self._delay:
                await asyncio.sleep(self._delay)  # paced like a model typing, when configured
            yield TextDelta(chunk)
        input_tokens = self._estimate(request.system) + sum(
            self._estimate(m.text) for m in request.messages
        )
        yield StreamEnd(Usage(input_tokens, self._estimate(text)))
