"""The two jobs of a submitted review: the content check and the sentiment.

The design documents' rule sends every ``ReviewSubmitted`` (``mangaassist.reviews``) to the
``manga-fm-normal`` queue twice, as ``review_moderation`` and ``review_sentiment``; each runs
offline and deterministically (``review_checks``, ``review_sentiment``), so a retry gives the
same answer under the same event id.

- ``review_moderation`` publishes ``ModerationFlagged`` (``subjectType: "review"``) only when the
  check found something; the ModerationFlagged rule sends ``high`` and ``critical`` ones on to
  the moderators' queue.
- ``review_sentiment`` always publishes ``ReviewAnalyzed``.
"""

from __future__ import annotations

import structlog

from mangaassist.events.envelope import Event
from mangaassist.events.publisher import EventPublisher
from mangaassist.jobs.event_payload import event_of, publish_answer, required_text
from mangaassist.jobs.review_checks import check_review
from mangaassist.jobs.review_sentiment import analyze_sentiment
from mangaassist.queues.worker import Job, PermanentError
from mangaassist.text.language import detect_language

__all__ = [
    "MODERATION_EVENT",
    "REVIEW_JOB_TIMEOUT_S",
    "REVIEW_MODERATION_JOB",
    "REVIEW_SENTIMENT_JOB",
    "SENTIMENT_EVENT",
    "ReviewModerationJob",
    "ReviewSentimentJob",
]

log = structlog.get_logger("mangaassist.jobs")

#: Job kinds of the ReviewSubmitted rule's two queue targets.
REVIEW_MODERATION_JOB = "review_moderation"
REVIEW_SENTIMENT_JOB = "review_sentiment"
#: Both are a few regular expressions and a publish.
REVIEW_JOB_TIMEOUT_S = 15.0
MODERATION_EVENT = "ModerationFlagged"
SENTIMENT_EVENT = "ReviewAnalyzed"
REVIEWS_SOURCE = "mangaassist.reviews"
REVIEW_EVENT = "ReviewSubmitted"


def _review(job: Job) -> tuple[Event, str, str, str]:
    """The ReviewSubmitted event of a job, its review id, product id and text."""
    event = event_of(job, REVIEWS_SOURCE, REVIEW_EVENT)
    review_id = required_text(event, "reviewId")
    product_id = required_text(event, "productId")
    text = event.detail.get("reviewText")
    if not isinstance(text, str):
        raise PermanentError(f"{REVIEW_EVENT} {event.id}: detail.reviewText must be a string")
    return event, review_id, product_id, text


def _rating(event: Event) -> int | None:
    rating = event.detail.get("rating")
    if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5:
        return rating
    return None


class ReviewModerationJob:
    """Runs ``review_moderation``: publishes ``ModerationFlagged`` for a review that needs it."""

    def __init__(self, bus: EventPublisher) -> None:
        self._bus = bus

    async def __call__(self, job: Job) -> None:
        event, review_id, product_id, text = _review(job)
        check = check_review(text)
        if not check.flagged:
            log.debug("review_clean", review_id=review_id, event_id=event.id)
            return
        flagged = await publish_answer(
            self._bus,
            REVIEW_MODERATION_JOB,
            event,
            MODERATION_EVENT,
            {
                "subjectType": "review",
                "subjectId": review_id,
                "productId": product_id,
                "severity": check.severity,
                "categories": list(check.categories),
                "signals": list(check.signals),
                "excerpt": check.excerpt,
                "reviewEventId": event.id,
            },
        )
        log.info(
            "review_flagged", review_id=review_id, severity=check.severity,
            categories=list(check.categories), event_id=flagged.id,
        )  # fmt: skip


class ReviewSentimentJob:
    """Runs ``review_sentiment``: publishes ``ReviewAnalyzed`` for every review."""

    def __init__(self, bus: EventPublisher) -> None:
        self._bus = bus

    async def __call__(self, job: Job) -> None:
        event, review_id, product_id, text = _review(job)
        rating = _rating(event)
        sentiment = analyze_sentiment(text, rating)
        await publish_answer(
            self._bus,
            REVIEW_SENTIMENT_JOB,
            event,
            SENTIMENT_EVENT,
            {
                "reviewId": review_id,
                "productId": product_id,
                "sentiment": sentiment.label,
                "score": sentiment.score,
                "rating": rating,
                "textScore": sentiment.text_score,
                "positiveHits": sentiment.positive_hits,
                "negativeHits": sentiment.negative_hits,
                "language": detect_language(text),
                "reviewEventId": event.id,
            },
        )
