"""Customer reviews -> ``ReviewSubmitted`` on the bus (sentiment, moderation, a reply follow).

The payload is the design documents' ``{review_id, product_id, text, rating, customer_id}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import regex

from mangaassist.events.envelope import Event
from mangaassist.events.publisher import EventPublisher
from mangaassist.webhooks.handlers import (
    Delivery,
    HandlerResult,
    UnusablePayloadError,
    event_id,
    optional_str,
    required_str,
)

__all__ = ["MAX_REVIEW_CHARS", "REVIEWS_SOURCE", "ReviewHandler", "truncate_graphemes"]

REVIEWS_SOURCE = "mangaassist.reviews"
#: Longest ``reviewText`` the ReviewSubmitted schema takes (``maxLength``, in code points).
MAX_REVIEW_CHARS = 2000
REVIEW_ACTIONS = ("sentiment_analysis", "content_moderation", "response_generation")

_GRAPHEME = regex.compile(r"\X")


def truncate_graphemes(text: str, max_chars: int) -> str:
    """The longest prefix of whole graphemes that is at most ``max_chars`` code points.

    ``text[:2000]`` (the design documents' cut) can split a grapheme: half a ZWJ family emoji,
    a flag without its second letter, a base letter without its combining mark, or in a
    narrow-build client 𠮷 without its low surrogate. Cutting between graphemes never does, and
    counting code points keeps the result within the schema's ``maxLength``.
    """
    if len(text) <= max_chars:
        return text
    end = 0
    for match in _GRAPHEME.finditer(text):
        if match.end() > max_chars:
            break
        end = match.end()
    return text[:end]


def _rating(payload: Mapping[str, Any]) -> int | None:
    rating = payload.get("rating")
    if rating is None:
        return None
    if isinstance(rating, float) and rating.is_integer():
        rating = int(rating)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise UnusablePayloadError(
            "`rating` must be a whole number from 1 to 5",
            details=[{"field": "rating", "message": "an integer from 1 to 5"}],
        )
    return rating


class ReviewHandler:
    """Publishes one ReviewSubmitted per review."""

    def __init__(self, events: EventPublisher) -> None:
        self._events = events

    async def handle(self, payload: Mapping[str, Any], delivery: Delivery) -> HandlerResult:
        review_id = required_str(payload, "review_id")
        product_id = required_str(payload, "product_id")
        text = optional_str(payload, "text") or optional_str(payload, "review_text")
        if text is None:
            raise UnusablePayloadError(
                "`text` is required (the review, non-empty)",
                details=[{"field": "text", "message": "required: a non-empty string"}],
            )
        detail: dict[str, Any] = {
            "reviewId": review_id,
            "productId": product_id,
            "reviewText": truncate_graphemes(text, MAX_REVIEW_CHARS),
            "actions": list(REVIEW_ACTIONS),
        }
        rating = _rating(payload)
        if rating is not None:
            detail["rating"] = rating
        customer_id = optional_str(payload, "customer_id")
        if customer_id is not None:
            detail["customerId"] = customer_id
        event = Event("ReviewSubmitted", detail, source=REVIEWS_SOURCE, id=event_id(delivery))
        await self._events.publish(event)
        return HandlerResult(
            "processed",
            {
                "reviewId": review_id,
                "truncated": len(detail["reviewText"]) < len(text),
                "published": [event.detail_type],
                "eventIds": [event.id],
            },
        )
