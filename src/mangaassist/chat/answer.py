"""A chat answer as the pipeline returns it, and its cached form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mangaassist.domain.catalog import SeriesRecord

__all__ = ["CachedAnswer", "ChatAnswer", "ChatQuestion"]


@dataclass(frozen=True, slots=True)
class ChatQuestion:
    """One customer message and how to answer it."""

    message: str
    session_id: str | None = None
    preferred_language: str = "auto"
    model_preference: str = "auto"
    max_tokens: int | None = None
    temperature: float | None = None
    exclude_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    """Everything the API reports about one answered message."""

    request_id: str
    session_id: str
    text: str
    language: str
    intent: str
    model: str
    cached: bool
    degraded: bool
    latency_ms: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    products: tuple[SeriesRecord, ...]
    warnings: tuple[str, ...] = ()
    deltas: tuple[str, ...] = field(default=(), compare=False)
    #: Models of the chain passed over before the one that answered.
    fallbacks: int = 0
    #: Why a degraded answer is degraded (``timeout``, ``throttled``, ``interrupted:...``).
    degraded_reason: str = ""


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """What the response cache keeps: the text and facts, products by id (re-read when served)."""

    text: str
    language: str
    intent: str
    model: str
    product_ids: tuple[str, ...]
    input_tokens: int
    output_tokens: int

    def to_bytes(self) -> bytes:
        """JSON bytes for the cache."""
        return json.dumps(
            {
                "text": self.text,
                "language": self.language,
                "intent": self.intent,
                "model": self.model,
                "productIds": list(self.product_ids),
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
            },
            ensure_ascii=False,
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> CachedAnswer:
        """Decode what ``to_bytes`` wrote."""
        data = json.loads(raw)
        return cls(
            text=data["text"],
            language=data["language"],
            intent=data["intent"],
            model=data["model"],
            product_ids=tuple(data["productIds"]),
            input_tokens=int(data["inputTokens"]),
            output_tokens=int(data["outputTokens"]),
        )
