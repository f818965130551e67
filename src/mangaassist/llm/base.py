"""The model port: a request of system prompt, messages and limits; text deltas, then usage.

Real providers (Bedrock Converse, OpenAI-compatible chat completions) implement ``stream``; the
base class builds ``complete`` on it, so every adapter streams and completes the same way.
Adapters keep the API format (how a request and a stream are encoded) apart from where the model
runs and with which credentials: a ``BedrockModel`` speaks Converse through a shared
``BedrockProvider`` (region, endpoint, client), an ``OpenAICompatModel`` speaks chat completions
through an ``OpenAIProvider`` (base URL, API key, HTTP client).

Failures are raised as ``ModelError`` subclasses, one per ``ErrorKind``, so the router decides
on the kind (retry, fall back, count toward the breaker) and never on a provider's error text.
``grounding`` carries what the pipeline retrieved from the catalog: real models get it rendered
into the system prompt, the offline responder answers from it directly. ``task`` does the same
for catalog analysis (a JSON answer about one series) instead of a chat answer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Literal

from mangaassist.analysis.task import AnalysisTask
from mangaassist.chat.plan import Plan

__all__ = [
    "TRANSIENT_KINDS",
    "ChatModel",
    "Completion",
    "ContextTooLong",
    "ErrorKind",
    "ModelAuthError",
    "ModelError",
    "ModelInvalidRequest",
    "ModelMalformedResponse",
    "ModelMessage",
    "ModelOverloaded",
    "ModelRequest",
    "ModelThrottled",
    "ModelTimeout",
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


class ErrorKind(StrEnum):
    """Why a model could not answer; metrics count errors by kind."""

    THROTTLED = "throttled"  #: rate or token quota exceeded (HTTP 429, ThrottlingException)
    TIMEOUT = "timeout"  #: no answer, or no first token, in the time allowed
    OVERLOADED = "overloaded"  #: 5xx, model not ready, connection refused or reset
    MALFORMED = "malformed"  #: the response broke its protocol (bad JSON, bad frames, no end)
    INVALID_REQUEST = "invalid_request"  #: the request itself was refused (HTTP 400)
    AUTH = "auth"  #: credentials missing, wrong or without access to the model
    CONTEXT_TOO_LONG = "context_too_long"  #: the prompt exceeds the model's context window


#: Kinds that may pass: the same model is retried (while the deadline allows) and they count
#: toward its circuit breaker. Every kind falls back to the next model of the chain.
TRANSIENT_KINDS = frozenset(
    {ErrorKind.THROTTLED, ErrorKind.TIMEOUT, ErrorKind.OVERLOADED, ErrorKind.MALFORMED}
)


class ModelError(Exception):
    """A model could not answer; the pipeline degrades instead of failing the request.

    ``retry_after_s`` carries a provider's ``Retry-After`` when it sent one.
    """

    kind: ClassVar[ErrorKind] = ErrorKind.OVERLOADED

    def __init__(
        self, message: str, *, model_id: str = "", retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.model_id = model_id
        self.retry_after_s = retry_after_s

    @property
    def transient(self) -> bool:
        """True when trying the same model again may succeed."""
        return self.kind in TRANSIENT_KINDS


class ModelThrottled(ModelError):  # noqa: N818 - named for the error kind
    """The provider refused the call for rate or quota."""

    kind = ErrorKind.THROTTLED


class ModelTimeout(ModelError):  # noqa: N818 - named for the error kind
    """The model did not answer (or start answering) in time."""

    kind = ErrorKind.TIMEOUT


class ModelOverloaded(ModelError):  # noqa: N818 - named for the error kind
    """The provider is unavailable: 5xx, model not ready, connection refused or cut."""

    kind = ErrorKind.OVERLOADED


class ModelMalformedResponse(ModelError):  # noqa: N818 - named for the error kind
    """The response broke the provider's protocol."""

    kind = ErrorKind.MALFORMED


class ModelInvalidRequest(ModelError):  # noqa: N818 - named for the error kind
    """The provider refused the request as invalid (a bug of ours or an unsupported option)."""

    kind = ErrorKind.INVALID_REQUEST


class ModelAuthError(ModelError):
    """Credentials are missing or wrong, or lack access to the model."""

    kind = ErrorKind.AUTH


class ContextTooLong(ModelError):  # noqa: N818 - named for the error kind
    """The prompt exceeds the model's context window."""

    kind = ErrorKind.CONTEXT_TOO_LONG


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
            raise ModelMalformedResponse(
                f"{self.model_id} ended its stream without usage", model_id=self.model_id
            )
        return Completion("".join(deltas), end.usage, self.model_id, end.stop_reason, tuple(deltas))
