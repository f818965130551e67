"""The model port: a request of system prompt, messages and limits; text deltas, then usage.

Real providers (Bedrock Converse, OpenAI-compatible chat completions) implement ``stream``; the
base class builds ``complete`` on it, so every adapter streams and completes the same way.
``grounding`` carries what the pipeline retrieved from the catalog: real models get it rendered
into the system prompt, the offline responder answers from it directly. ``task`` does the same
for catalog analysis (a JSON answer about one series) instead of a chat answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal

from mangaassist.analysis.task import AnalysisTask
from mangaassist.chat.plan import Plan

__all__ = [
    "ChatModel",
    "Completion",
    "ModelError",
    "ModelMessage",
    "ModelRequest",
    "StreamEnd",
    "StreamEvent",
    "TextDelta",
    "Usage",
]


@dataclass(frozen=True, slots=True)
class ModelMessage:
    """One earlier or current message of the conversation."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """What a model is asked: the conversation, the instructions and the limits."""

    system: str
    messages: tuple[ModelMessage, ...]
    max_tokens: int = 512
    temperature: float = 0.5
    grounding: Plan | None = None
    #: Set for catalog analysis: the answer is one JSON object about ``task.series``.
    task: AnalysisTask | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens the call consumed, as the provider reports them (or as estimated)."""

    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class TextDelta:
    """The next piece of the answer's text."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamEnd:
    """The stream is over: usage and why it stopped (``end_turn``, ``max_tokens``, ...)."""

    usage: Usage
    stop_reason: str = "end_turn"


StreamEvent = TextDelta | StreamEnd


@dataclass(frozen=True, slots=True)
class Completion:
    """A whole answer."""

    text: str
    usage: Usage
    model_id: str
    stop_reason: str = "end_turn"
    deltas: tuple[str, ...] = field(default_factory=tuple)


class ModelError(Exception):
    """A model could not answer; the pipeline degrades instead of failing the request."""


class ChatModel(ABC):
    """A model that answers a ``ModelRequest``, streaming."""

    #: The id reported in answers and used for pricing and guards.
    model_id: str

    @abstractmethod
    def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        """Text deltas, then exactly one ``StreamEnd``."""

    async def complete(self, request: ModelRequest) -> Completion:
        """The whole answer, collected from ``stream``."""
        deltas: list[str] = []
        end: StreamEnd | None = None
        async for event in self.stream(request):
            if isinstance(event, TextDelta):
                deltas.append(event.text)
            else:
                end = event
        if end is None:
            raise ModelError(f"{self.model_id} ended its stream without usage")
        return Completion("".join(deltas), end.usage, self.model_id, end.stop_reason, tuple(deltas))
