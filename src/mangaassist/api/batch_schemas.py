"""Bodies of the batch analysis API: the design documents' ``batch_analysis`` schema (snake_case
keys, no other keys) and the camelCase answers of ``POST /v1/manga/batch`` and
``GET /v1/manga/status/{requestId}``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mangaassist.api.schemas import ApiModel
from mangaassist.domain.catalog import PRODUCT_ID_PATTERN

__all__ = [
    "BatchAccepted",
    "BatchAnalysisItem",
    "BatchAnalysisRequest",
    "BatchCallbackStatus",
    "BatchItemError",
    "BatchNotification",
    "BatchStatus",
    "BatchUsage",
]

#: Items of one batch (design documents: 1 to 100).
MAX_BATCH_ITEMS = 100
#: Longest ``additional_context`` (design documents: 2000 characters).
MAX_CONTEXT_CHARS = 2000
#: An e-mail address, loosely: something@domain.tld without spaces.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

AnalysisTypeName = Literal[
    "genre_classification", "content_summary", "similar_series", "reading_level", "full_enrichment"
]


CallbackUrl = Annotated[
    str,
    Field(
        max_length=2048,
        description="Where each item's completion is POSTed, signed (Standard Webhooks). https "
        "only (plain http only for hosts on MANGAASSIST_CALLBACK_ALLOWED_HOSTS) and public "
        "addresses only; otherwise 422 CALLBACK_URL_NOT_HTTPS, CALLBACK_URL_INVALID, "
        "CALLBACK_URL_FORBIDDEN or CALLBACK_URL_UNRESOLVABLE.",
        examples=["https://partner.example.com/hooks/mangaassist"],
    ),
]


class BatchAnalysisItem(BaseModel):
    """One series to analyse."""

    model_config = ConfigDict(extra="forbid")

    manga_id: Annotated[str, Field(pattern=PRODUCT_ID_PATTERN, examples=["MNG-L53JXTJI"])]
    analysis_type: AnalysisTypeName
    additional_context: Annotated[str, Field(max_length=MAX_CONTEXT_CHARS)] | None = None


class BatchNotification(BaseModel):
    """Where else to announce completion (recorded with the batch; delivery is by callback)."""

    model_config = ConfigDict(extra="forbid")

    sns_topic_arn: str | None = None
    email: Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)] | None = None


class BatchAnalysisRequest(BaseModel):
    """The design documents' ``batch_analysis`` schema."""

    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[BatchAnalysisItem], Field(min_length=1, max_length=MAX_BATCH_ITEMS)]
    callback_url: CallbackUrl | None = None
    priority: Literal["high", "normal", "low"] = "normal"
    notification: BatchNotification | None = None


class BatchAccepted(ApiModel):
    """What 202 answers: one request id per item, in the order of ``items``."""

    request_ids: list[str]
    item_count: int
    batch_id: str


class BatchUsage(ApiModel):
    """Tokens of the model call."""

    input_tokens: int
    output_tokens: int


class BatchItemError(ApiModel):
    """Why an item failed: ``UNKNOWN_SERIES`` or ``ANALYSIS_FAILED``."""

    code: str
    message: str


class BatchCallbackStatus(ApiModel):
    """The completion callback: pending, enqueued, delivered or failed."""

    status: Literal["pending", "enqueued", "delivered", "failed"]
    attempts: int
    last_error: str | None
    delivered_at: str | None


class BatchStatus(ApiModel):
    """One item of a batch, as ``GET /v1/manga/status/{requestId}`` answers it."""

    request_id: str
    batch_id: str
    manga_id: str
    analysis_type: str
    status: Literal["queued", "processing", "completed", "failed"]
    attempts: int = Field(description="Times a worker started the analysis.")
    created_at: str
    started_at: str | None
    finished_at: str | None
    updated_at: str
    result: dict[str, Any] | str | None = Field(
        description="The analysis: a JSON object, or the model's text when it was not JSON."
    )
    result_format: Literal["json", "text"] | None
    usage: BatchUsage | None
    model_id: str | None
    cost_usd: float | None
    error: BatchItemError | None
    callback: BatchCallbackStatus | None
