"""The jobs behind the built-in event rules, registered in one call.

The design documents' rules (``EventBridge Rule Configuration``) deliver events to queues as
jobs whose payload is the event: PaymentCompleted -> ``order_confirmation``; ReviewSubmitted ->
``review_moderation`` and ``review_sentiment``; ModerationFlagged (high, critical) ->
``moderation_case`` on ``manga-moderation``. ``register_event_jobs`` registers the four and
builds the analytics sink, which the caller registers as the ``analytics`` handler target of the
InferenceCompleted and catch-all rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mangaassist.catalog.service import CatalogService
from mangaassist.events.analytics import AnalyticsSink
from mangaassist.events.publisher import EventPublisher
from mangaassist.jobs.moderation import (
    MODERATION_CASE_JOB,
    MODERATION_CASE_TIMEOUT_S,
    ModerationCaseJob,
)
from mangaassist.jobs.orders import (
    ORDER_CONFIRMATION_JOB,
    ORDER_CONFIRMATION_TIMEOUT_S,
    OrderConfirmationJob,
)
from mangaassist.jobs.reviews import (
    REVIEW_JOB_TIMEOUT_S,
    REVIEW_MODERATION_JOB,
    REVIEW_SENTIMENT_JOB,
    ReviewModerationJob,
    ReviewSentimentJob,
)
from mangaassist.queues.worker import JobRegistry

__all__ = ["ANALYTICS_FILE", "EVENT_JOB_KINDS", "EventJobs", "register_event_jobs"]

#: The analytics file's name in the data folder when no path is configured.
ANALYTICS_FILE = "analytics.jsonl"
#: The job kinds ``register_event_jobs`` registers.
EVENT_JOB_KINDS = (
    ORDER_CONFIRMATION_JOB,
    REVIEW_MODERATION_JOB,
    REVIEW_SENTIMENT_JOB,
    MODERATION_CASE_JOB,
)


@dataclass(frozen=True, slots=True)
class EventJobs:
    """The registered handlers and the analytics sink, for the caller to wire and close."""

    analytics: AnalyticsSink
    orders: OrderConfirmationJob
    review_moderation: ReviewModerationJob
    review_sentiment: ReviewSentimentJob
    cases: ModerationCaseJob

    async def close(self) -> None:
        """Wait for lines being written to the analytics file and the inbox."""
        await self.analytics.close()
        await self.cases.close()


def register_event_jobs(
    jobs: JobRegistry,
    *,
    bus: EventPublisher,
    catalog: CatalogService,
    analytics_path: Path,
    cases_path: Path,
) -> EventJobs:
    """Register the four event job kinds on ``jobs``; return them with the analytics sink."""
    built = EventJobs(
        analytics=AnalyticsSink(analytics_path),
        orders=OrderConfirmationJob(catalog, bus),
        review_moderation=ReviewModerationJob(bus),
        review_sentiment=ReviewSentimentJob(bus),
        cases=ModerationCaseJob(cases_path),
    )
    jobs.register(ORDER_CONFIRMATION_JOB, built.orders, timeout_s=ORDER_CONFIRMATION_TIMEOUT_S)
    jobs.register(REVIEW_MODERATION_JOB, built.review_moderation, timeout_s=REVIEW_JOB_TIMEOUT_S)
    jobs.register(REVIEW_SENTIMENT_JOB, built.review_sentiment, timeout_s=REVIEW_JOB_TIMEOUT_S)
    jobs.register(MODERATION_CASE_JOB, built.cases, timeout_s=MODERATION_CASE_TIMEOUT_S)
    return built
