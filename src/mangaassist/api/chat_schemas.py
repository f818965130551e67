"""Request and response bodies of the chat, session, recommend and partner query routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mangaassist.api.messages import message
from mangaassist.api.schemas import ApiModel, Product
from mangaassist.chat.answer import ChatAnswer
from mangaassist.domain.catalog import PRODUCT_ID_PATTERN, Genre

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "MangaQueryRequest",
    "RecommendRequest",
    "RecommendResponse",
    "SessionMessages",
    "render_answer",
]

#: Session ids clients may choose: URL-safe, long enough not to collide.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"
SessionId = Annotated[str, StringConstraints(pattern=SESSION_ID_PATTERN)]
#: Raw message length accepted by the schema; the grapheme rules are checked after it.
RAW_MESSAGE_MAX = 40_000


class ChatRequest(ApiModel):
    """One customer message."""

    message: Annotated[
        str, Field(max_length=RAW_MESSAGE_MAX, examples=["おすすめの異世界マンガは？"])
    ]
    session_id: SessionId | None = Field(None, description="Continue this conversation.")
    preferred_language: Literal["ja", "en", "auto"] = "auto"
    model_preference: Literal["auto", "fast", "quality"] = "auto"


class UsageOut(ApiModel):
    """Model tokens of the answer (0 when served from the cache)."""

    input_tokens: int
    output_tokens: int


class AnswerWarning(ApiModel):
    """Something about the message worth knowing, that did not stop the answer."""

    code: str
    message: str


class ChatResponse(ApiModel):
    """The answer, the products it talks about, and what it took."""

    request_id: str
    session_id: str
    message: str
    language: Literal["ja", "en"]
    intent: str
    model: str
    cached: bool
    degraded: bool = Field(description="True when the catalog answered alone (model too slow).")
    latency_ms: int
    usage: UsageOut
    cost_usd: float
    products: list[Product]
    warnings: list[AnswerWarning]

    @classmethod
    def of(cls, answer: ChatAnswer, warnings: list[AnswerWarning]) -> ChatResponse:
        """The API view of a pipeline answer."""
        return cls(
            request_id=answer.request_id,
            session_id=answer.session_id,
            message=answer.text,
            language="ja" if answer.language == "ja" else "en",
            intent=answer.intent,
            model=answer.model,
            cached=answer.cached,
            degraded=answer.degraded,
            latency_ms=answer.latency_ms,
            usage=UsageOut(input_tokens=answer.input_tokens, output_tokens=answer.output_tokens),
            cost_usd=answer.cost_usd,
            products=[Product.of(p) for p in answer.products],
            warnings=warnings,
        )


class SessionMessage(ApiModel):
    """One stored message of a conversation."""

    role: Literal["user", "assistant"]
    text: str
    created_at: str
    language: str
    intent: str
    product_ids: list[str]
    cancelled: bool


class SessionMessages(ApiModel):
    """A conversation's messages, oldest first."""

    session_id: str
    messages: list[SessionMessage]


class RecommendRequest(ApiModel):
    """Ask for recommendations without a chat message."""

    session_id: SessionId | None = None
    genre: Genre | None = None
    liked_ids: list[Annotated[str, Field(pattern=PRODUCT_ID_PATTERN)]] = Field(
        default_factory=list, max_length=20
    )
    limit: Annotated[int, Field(ge=1, le=20)] = 5


class RecommendResponse(ApiModel):
    """Recommended products and why."""

    products: list[Product]
    reason: str


class MangaQueryContext(BaseModel):
    """Partner context of a query (snake_case, as in the design documents' schema)."""

    user_id: str | None = None
    session_id: SessionId | None = None
    previous_manga: list[str] = Field(default_factory=list, max_length=10)


class MangaQueryRequest(BaseModel):
    """The design documents' ``manga_query`` schema (snake_case keys, no other keys)."""

    model_config = ConfigDict(extra="forbid")

    query: Annotated[str, Field(min_length=1, max_length=8000)]
    model: Literal["sonnet", "haiku"] = "haiku"
    max_tokens: Annotated[int, Field(ge=1, le=4096)] = 512
    temperature: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    conversation_id: uuid.UUID | None = None
    language: Literal["en", "ja", "auto"] = "auto"
    context: MangaQueryContext | None = None


def render_answer(answer: ChatAnswer) -> dict[str, object]:
    """The JSON object of an answer, as ``POST /v1/chat`` returns it and ``done`` carries it."""
    language: Literal["ja", "en"] = "ja" if answer.language == "ja" else "en"
    warnings = [AnswerWarning(code=c, message=message(c, language)) for c in answer.warnings]
    rendered: dict[str, object] = ChatResponse.of(answer, warnings).model_dump(
        mode="json", by_alias=True
    )
    return rendered
