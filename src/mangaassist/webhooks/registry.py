"""Wiring of inbound webhooks: the handler behind each name a source may configure."""

from __future__ import annotations

from mangaassist.catalog.service import CatalogService
from mangaassist.events.publisher import EventPublisher
from mangaassist.settings import Settings
from mangaassist.store.base import CatalogStore, Store
from mangaassist.text.romaji import romanize
from mangaassist.webhooks.catalog_feed import CatalogFeedHandler
from mangaassist.webhooks.handlers import IgnoreHandler, WebhookHandler
from mangaassist.webhooks.inbound import InboundConfig, InboundWebhooks
from mangaassist.webhooks.payments import StripeHandler
from mangaassist.webhooks.reviews import ReviewHandler

__all__ = ["build_inbound_webhooks", "default_handlers"]


def default_handlers(
    catalog: CatalogService, store: CatalogStore, events: EventPublisher
) -> dict[str, WebhookHandler]:
    """Every handler, by the name ``WebhookSource.handler`` uses."""
    return {
        "stripe": StripeHandler(events),
        "reviews": ReviewHandler(events),
        "catalog": CatalogFeedHandler(catalog, store, events, romanize),
        "none": IgnoreHandler(),
    }


def build_inbound_webhooks(
    settings: Settings,
    store: Store,
    catalog: CatalogService,
    events: EventPublisher,
) -> InboundWebhooks:
    """The inbound webhook service of ``settings``' sources."""
    config = InboundConfig(
        sources=settings.webhook_sources,
        ttl_s=settings.webhook_idempotency_ttl_s,
        lease_s=settings.webhook_processing_lease_s,
    )
    return InboundWebhooks(config, store, default_handlers(catalog, store, events))
