"""POST /webhooks/{source} through the real app: every source end to end, duplicates, forgeries,
replays, a failure of ours and its retry, a catalog batch of 25, and Japanese errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.events.base import PutResult
from mangaassist.events.envelope import Event
from tests.conftest import make_record
from tests.webhook_senders import (
    STRIPE_OLD_SECRET,
    checkout_completed,
    encode,
    price_batch,
    review,
    signed,
    webhook_settings,
)

pytestmark = pytest.mark.timeout(90)

FRIEREN = "MNG-L53JXTJI"


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build(webhook_settings(tmp_path))


@pytest.fixture
def curated() -> list[SeriesRecord]:
    return parse_catalog(BUILTIN_CATALOG).records


@pytest.fixture
async def client(
    container: Container, curated: list[SeriesRecord]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        await container.catalog.upsert(curated)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            yield c


async def deliver(
    client: httpx.AsyncClient, source: str, payload: Any, **signing: Any
) -> httpx.Response:
    body = payload if isinstance(payload, bytes) else encode(payload)
    headers = signed(source, body, **signing)
    return await client.post(f"/webhooks/{source}", content=body, headers=headers)


def published(container: Container, detail_type: str) -> list[Event]:
    return [e for e in container.events.recent if e.detail_type == detail_type]


# -- Stripe --------------------------------------------------------------------------------------


async def test_a_stripe_checkout_publishes_one_payment_completed_in_whole_yen(
    client: httpx.AsyncClient, container: Container
) -> None:
    response = await deliver(client, "stripe", checkout_completed("evt_1", "order-1001", 1500))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "processed"
    assert body["idempotencyKey"] == "evt_1"
    [event] = published(container, "PaymentCompleted")
    assert event.source == "mangaassist.payments"
    assert event.detail["orderId"] == "order-1001"
    assert event.detail["amount"] == 1500  # ¥1500, not 15.00: JPY is zero-decimal
    assert event.detail["currency"] == "JPY"
    assert event.detail["items"] == [{"id": FRIEREN, "qty": 2}]
    assert event.id in body["result"]["eventIds"]


async def test_a_stripe_duplicate_is_already_processed_and_publishes_nothing(
    client: httpx.AsyncClient, container: Container
) -> None:
    payload = checkout_completed("evt_dup", "order-1002")
    first = await deliver(client, "stripe", payload)
    # Stripe retries with a new timestamp and signature, the same event id.
    again = await deliver(client, "stripe", payload, timestamp=int(time.time()) + 5)

    assert first.json()["status"] == "processed"
    assert again.status_code == 200
    assert again.json()["status"] == "already_processed"
    assert again.json()["idempotencyKey"] == "evt_dup"
    assert again.json()["result"]["outcome"] == "processed"
    assert len(published(container, "PaymentCompleted")) == 1


async def test_a_usd_refund_keeps_its_cents_and_other_types_are_ignored(
    client: httpx.AsyncClient, container: Container
) -> None:
    refund = {
        "id": "evt_refund",
        "type": "charge.refunded",
        "data": {
            "object": {
                "id": "ch_1",
                "amount_refunded": 1999,
                "currency": "usd",
                "metadata": {"order_id": "order-7"},
            }
        },
    }
    other = {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}

    refunded = await deliver(client, "stripe", refund)
    ignored = await deliver(client, "stripe", other)

    assert refunded.status_code == 200
    [event] = published(container, "RefundProcessed")
    assert event.detail["amount"] == 19.99
    assert event.detail["chargeId"] == "ch_1"
    assert ignored.json()["status"] == "ignored"
    assert {e.detail_type for e in container.events.recent} <= {
        "RefundProcessed",
        "InferenceCompleted",
    }


async def test_the_rotated_out_secret_still_verifies_until_removed(
    client: httpx.AsyncClient,
) -> None:
    response = await deliver(
        client, "stripe", checkout_completed("evt_old", "o-9"), secret=STRIPE_OLD_SECRET
    )

    assert response.status_code == 200


# -- refused deliveries --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signing", "status", "code"),
    [
        ({"secret": "whsec_forged"}, 401, "WEBHOOK_SIGNATURE_INVALID"),
        ({"timestamp": int(time.time()) - 301}, 403, "WEBHOOK_TIMESTAMP_STALE"),
        ({"timestamp": int(time.time()) + 3600}, 403, "WEBHOOK_TIMESTAMP_STALE"),
    ],
)
async def test_forged_stale_and_future_deliveries_are_refused_and_publish_nothing(
    client: httpx.AsyncClient,
    container: Container,
    signing: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = await deliver(client, "stripe", checkout_completed("evt_bad", "o-1"), **signing)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert response.json()["requestId"] == response.headers["x-request-id"]
    assert not published(container, "PaymentCompleted")


async def test_a_delivery_without_its_signature_header_is_401(
    client: httpx.AsyncClient, container: Container
) -> None:
    body = encode(review("r-nosig"))
    response = await client.post("/webhooks/reviews", content=body)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "WEBHOOK_SIGNATURE_MISSING"
    assert not published(container, "ReviewSubmitted")


async def test_a_body_changed_after_signing_is_refused(client: httpx.AsyncClient) -> None:
    body = encode(review("r-tamper", rating=1))
    headers = signed("reviews", body)
    tampered = body.replace(b'"rating": 1', b'"rating": 5')

    response = await client.post("/webhooks/reviews", content=tampered, headers=headers)

    assert response.status_code == 401


async def test_an_unknown_source_is_404_and_errors_speak_japanese_when_asked(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.post("/webhooks/paypal", content=b"{}")
    body = encode(review("r-ja"))
    headers = signed("reviews", body, secret="wrong") | {"Accept-Language": "ja"}
    forged = await client.post("/webhooks/reviews", content=body, headers=headers)

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "WEBHOOK_SOURCE_UNKNOWN"
    assert forged.status_code == 401
    assert forged.json()["error"]["message"] == "Webhookの署名が本文と一致しません。"


async def test_no_source_is_exposed_by_default(tmp_path: Path) -> None:
    container = build(webhook_settings(tmp_path, webhook_sources={}))
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            body = encode(checkout_completed("evt_x", "o-x"))
            response = await c.post(
                "/webhooks/stripe", content=body, headers=signed("stripe", body)
            )
    assert response.status_code == 404


async def test_signed_bodies_that_are_not_json_or_unusable_are_400_and_422(
    client: httpx.AsyncClient, container: Container
) -> None:
    not_json = await deliver(client, "reviews", b'{"review_id": "r-1",')
    not_object = await deliver(client, "reviews", b'["r-1"]')
    no_text = await deliver(client, "reviews", {"review_id": "r-2", "product_id": FRIEREN})
    resent = await deliver(client, "reviews", {"review_id": "r-2", "product_id": FRIEREN})

    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"] == "MALFORMED_JSON"
    assert not_object.status_code == 422
    assert no_text.status_code == 422
    assert no_text.json()["error"]["code"] == "WEBHOOK_PAYLOAD_INVALID"
    assert no_text.json()["error"]["details"][0]["field"] == "text"
    # Rejected for good: the resend is acknowledged, so the sender stops retrying it.
    assert resent.json()["status"] == "already_processed"
    assert resent.json()["result"]["outcome"] == "rejected"
    assert not published(container, "ReviewSubmitted")


# -- reviews, GitHub, Standard Webhooks ----------------------------------------------------------


async def test_a_long_review_is_cut_between_graphemes_and_published_once(
    client: httpx.AsyncClient, container: Container
) -> None:
    family = "👨‍👩‍👧"  # five code points, one grapheme
    text = "あ" * 1998 + family + "おわり"

    response = await deliver(client, "reviews", review("r-long", text=text, rating=4))

    assert response.status_code == 200
    assert response.json()["result"]["truncated"] is True
    [event] = published(container, "ReviewSubmitted")
    assert event.detail["reviewText"] == "あ" * 1998  # the family is not cut in half
    assert event.detail["rating"] == 4
    assert event.detail["customerId"] == "cust-42"


async def test_github_and_standard_webhooks_deduplicate_by_their_delivery_id(
    client: httpx.AsyncClient, container: Container
) -> None:
    ping = {"zen": "Keep it logically awesome.", "hook_id": 1}
    gh = [await deliver(client, "github", ping, delivery_id="72d3162e") for _ in range(2)]
    partner = [
        await deliver(client, "partner", review("r-std"), delivery_id="msg_2Lk8") for _ in range(2)
    ]

    assert [r.json()["status"] for r in gh] == ["ignored", "already_processed"]
    assert gh[0].json()["idempotencyKey"] == "72d3162e"
    assert [r.json()["status"] for r in partner] == ["processed", "already_processed"]
    assert len(published(container, "ReviewSubmitted")) == 1


# -- failure and retry ---------------------------------------------------------------------------


async def test_a_bus_outage_is_503_and_the_senders_retry_publishes_exactly_once(
    client: httpx.AsyncClient, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def bus_down(events: list[Event]) -> list[PutResult]:
        return [PutResult(error_code="ServiceUnavailable", error_message="down") for _ in events]

    with monkeypatch.context() as patch:
        patch.setattr(container.events, "_put", bus_down)
        failed = await deliver(client, "reviews", review("r-retry"))

    assert failed.status_code == 503
    assert failed.json()["error"]["code"] == "WEBHOOK_PROCESSING_FAILED"
    assert int(failed.headers["retry-after"]) > 0
    assert not published(container, "ReviewSubmitted")

    retried = await deliver(client, "reviews", review("r-retry"))
    duplicate = await deliver(client, "reviews", review("r-retry"))

    assert retried.json()["status"] == "processed"
    assert duplicate.json()["status"] == "already_processed"
    assert len(published(container, "ReviewSubmitted")) == 1


# -- the catalog feed ----------------------------------------------------------------------------


async def test_a_catalog_batch_of_25_changes_every_price_and_publishes_25_events(
    client: httpx.AsyncClient, container: Container, curated: list[SeriesRecord]
) -> None:
    targets = {record.id: record.price_jpy + 100 for record in curated[:25]}

    response = await deliver(client, "catalog", price_batch("batch-25", targets))

    assert response.status_code == 200
    result = response.json()["result"]
    assert (result["applied"], result["published"], result["rejectedCount"]) == (25, 25, 0)
    events = published(container, "CatalogUpdate.price_change")
    assert sorted(e.detail["productId"] for e in events) == sorted(targets)
    assert {e.detail["batchId"] for e in events} == {"batch-25"}
    frieren_like = curated[0]
    shown = await client.get(f"/v1/catalog/{frieren_like.id}")
    assert shown.json()["priceJpy"] == targets[frieren_like.id]
    search = await client.post("/v1/search", json={"query": frieren_like.title_ja})
    [hit] = [p for p in search.json()["results"] if p["id"] == frieren_like.id]
    assert hit["priceJpy"] == targets[frieren_like.id]


async def test_a_catalog_batch_applies_what_it_can_and_reports_the_rest(
    client: httpx.AsyncClient, container: Container
) -> None:
    new = make_record(title="Webhook Days", title_ja="ウェブフックの日々", author_ja="架空太郎")
    item = new.model_dump(mode="json", by_alias=True) | {"id": ""}
    batch = {"batch_id": "b-new", "type": "new_release", "items": [item, {"title": "no"}]}

    response = await deliver(client, "catalog", batch)
    discontinued = await deliver(
        client,
        "catalog",
        {
            "batch_id": "b-gone",
            "type": "discontinued",
            "items": [{"id": FRIEREN}, {"id": "MNG-NOPE0000"}],
        },
    )

    assert response.status_code == 200
    result = response.json()["result"]
    assert (result["applied"], result["rejectedCount"]) == (1, 1)
    assert result["rejected"][0]["index"] == 1
    created = await client.get(f"/v1/catalog/{new.id}")
    assert created.json()["titleJa"] == "ウェブフックの日々"
    assert discontinued.json()["result"]["rejected"][0]["reason"] == "no series has this id"
    frieren = (await client.get(f"/v1/catalog/{FRIEREN}")).json()
    assert (frieren["stock"], frieren["inStock"]) == (0, False)
    assert [e.detail["productId"] for e in published(container, "CatalogUpdate.discontinued")] == [
        FRIEREN
    ]


async def test_a_catalog_redelivery_after_a_crash_changes_nothing_twice(
    client: httpx.AsyncClient,
    container: Container,
    curated: list[SeriesRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a batch whose changes were applied but whose key could not be completed,
    targets = {record.id: 999 for record in curated[:3]}
    batch = price_batch("b-crash", targets)

    async def store_down(*args: Any, **kwargs: Any) -> bool:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(container.store, "complete_webhook", store_down)
        crashed = await deliver(client, "catalog", batch)
    version = await container.store.catalog_version()

    # while its lease holds, the sender's retry is told to come back later;
    busy = await deliver(client, "catalog", batch)
    # once the lease has run out, the retry runs the batch again,
    await container.store.purge_webhook_keys(datetime.now(UTC) + timedelta(days=1))
    again = await deliver(client, "catalog", batch)

    # which writes nothing new and publishes the same event ids as the first run.
    assert crashed.status_code == 503
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "WEBHOOK_IN_PROGRESS"
    assert 1 <= int(busy.headers["retry-after"]) <= 5
    assert again.json()["status"] == "processed"
    assert again.json()["result"]["changed"] == 0
    assert await container.store.catalog_version() == version
    ids = [e.id for e in published(container, "CatalogUpdate.price_change")]
    assert len(ids) == 6
    assert len(set(ids)) == 3
