"""Webhook senders for tests: sources configured as an operator would, deliveries signed as each
real sender signs them (Stripe, a generic HMAC sender, the catalog feed, GitHub, Standard
Webhooks), and payloads shaped like theirs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from mangaassist.settings import Settings
from mangaassist.webhooks.schemes import (
    github_signature,
    hmac_sha256_signature,
    stripe_signature_header,
)
from mangaassist.webhooks.signing import signed_headers

STRIPE_SECRET = "whsec_stripe_test_51N8x2KmangaassistAbC"
STRIPE_OLD_SECRET = "whsec_stripe_test_rotated_out_Zy9"
REVIEWS_SECRET = "reviews-secret-2026"
CATALOG_SECRET = "catalog-feed-secret-2026"
GITHUB_SECRET = "It's a Secret to Everybody"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

SOURCES: dict[str, Any] = {
    "stripe": {
        "scheme": "stripe",
        "secrets": [STRIPE_SECRET, STRIPE_OLD_SECRET],
        "handler": "stripe",
    },
    "reviews": {"scheme": "hmac-sha256", "secrets": [REVIEWS_SECRET], "handler": "reviews"},
    "catalog": {
        "scheme": "hmac-sha256",
        "secrets": [CATALOG_SECRET],
        "handler": "catalog",
        "signature_header": "X-Catalog-Signature",
        "timestamp_header": "X-Catalog-Timestamp",
    },
    "github": {"scheme": "github", "secrets": [GITHUB_SECRET], "handler": "none"},
    "partner": {"scheme": "standard", "secrets": [STANDARD_SECRET], "handler": "reviews"},
}


def webhook_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings of a test app with every test source configured (no embedded worker: the
    events' deliveries wait in their queues)."""
    fields: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'webhooks.db'}",
        "webhook_sources": SOURCES,
        "worker_embedded": False,
    }
    fields.update(overrides)
    return Settings.model_validate(fields)


def encode(payload: Any) -> bytes:
    """The body as a sender serializes it (non-ASCII kept as UTF-8, as Stripe does)."""
    return json.dumps(payload, ensure_ascii=False).encode()


def signed(
    source: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    delivery_id: str = "delivery-1",
) -> dict[str, str]:
    """The headers ``source``'s sender puts on ``body``; ``secret`` forges with another one."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {"content-type": "application/json"}
    if source == "stripe":
        headers["Stripe-Signature"] = stripe_signature_header(secret or STRIPE_SECRET, body, ts)
    elif source == "reviews":
        signature = hmac_sha256_signature(secret or REVIEWS_SECRET, body, ts)
        headers |= {"X-Webhook-Signature": f"sha256={signature}", "X-Webhook-Timestamp": str(ts)}
    elif source == "catalog":
        signature = hmac_sha256_signature(secret or CATALOG_SECRET, body, ts)
        headers |= {"X-Catalog-Signature": signature, "X-Catalog-Timestamp": str(ts)}
    elif source == "github":
        headers["X-Hub-Signature-256"] = github_signature(secret or GITHUB_SECRET, body)
        headers["X-GitHub-Delivery"] = delivery_id
    elif source == "partner":
        headers |= signed_headers(secret or STANDARD_SECRET, delivery_id, body, timestamp=ts)
    else:
        raise ValueError(source)
    return headers


def checkout_completed(event_id: str, order_id: str, amount_total: int = 1500) -> dict[str, Any]:
    """Stripe's ``checkout.session.completed`` for a yen order (JPY is zero-decimal)."""
    return {
        "id": event_id,
        "object": "event",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_test_{order_id}",
                "object": "checkout.session",
                "amount_total": amount_total,
                "currency": "jpy",
                "customer_email": "yuki@example.jp",
                "payment_intent": f"pi_{order_id}",
                "metadata": {
                    "order_id": order_id,
                    "items": json.dumps([{"id": "MNG-L53JXTJI", "qty": 2}]),
                },
            }
        },
    }


def review(
    review_id: str, text: str = "フリーレンの旅が最高でした！", rating: int = 5
) -> dict[str, Any]:
    """A review in the design documents' shape."""
    return {
        "review_id": review_id,
        "product_id": "MNG-L53JXTJI",
        "text": text,
        "rating": rating,
        "customer_id": "cust-42",
    }


def price_batch(batch_id: str, prices: dict[str, int]) -> dict[str, Any]:
    """A catalog feed batch setting the price of existing series."""
    return {
        "batch_id": batch_id,
        "type": "price_change",
        "items": [{"id": series_id, "price_jpy": price} for series_id, price in prices.items()],
    }
