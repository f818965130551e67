"""A storm of 1,000 webhook deliveries through the real app, as real senders make them.

Stripe payments, reviews and catalog batches arrive shuffled and concurrently: 500 unique valid
deliveries, 300 duplicates of them (Stripe-style retries, re-signed with a fresh timestamp),
100 stale replays (validly signed more than 300 s ago) and 100 forgeries (wrong secret, body
changed after signing, no signature). A sender that gets 409 or 503 waits briefly and retries.
Every valid delivery must have its effect exactly once, and no refused one any effect at all.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.domain.catalog import SeriesRecord
from tests.webhook_senders import (
    checkout_completed,
    encode,
    price_batch,
    review,
    signed,
    webhook_settings,
)

pytestmark = pytest.mark.timeout(120)

TOTAL = 1000
UNIQUE, DUPLICATES, STALE, FORGED = 500, 300, 100, 100
CONCURRENCY = 50
#: First wait of a sender after 409 or 503, doubled on each retry up to the longest.
RETRY_WAIT_S = 0.05
MAX_RETRY_WAIT_S = 1.0
MAX_ATTEMPTS = 30
SOURCES = ("stripe", "reviews", "catalog")


@dataclass
class Delivery:
    """One delivery a sender makes (with its retries) and what it was finally told."""

    kind: str  # original | duplicate | stale | forged
    source: str
    key: str
    payload: dict[str, Any]
    forgery: str = ""
    statuses: list[int] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


def _payload(source: str, key: str, series: SeriesRecord, price: int) -> dict[str, Any]:
    if source == "stripe":
        return checkout_completed(key, f"order-{key}", amount_total=price)
    if source == "reviews":
        return review(key, text=f"{series.title_ja}、最高でした {key}")
    return price_batch(key, {series.id: price})


def _plan(curated: list[SeriesRecord], rng: random.Random) -> list[Delivery]:
    originals: list[Delivery] = []
    for i in range(UNIQUE):
        source = SOURCES[i % 3]
        series = curated[i // 3]  # each catalog batch changes its own series
        key = f"{source}-{i}"
        originals.append(Delivery("original", source, key, _payload(source, key, series, 1000 + i)))
    plan = list(originals)
    for _ in range(DUPLICATES):
        first = rng.choice(originals)
        plan.append(Delivery("duplicate", first.source, first.key, first.payload))
    for i in range(STALE + FORGED):
        kind = "stale" if i < STALE else "forged"
        victim = originals[i % UNIQUE]  # refused deliveries target the same series, at price 1
        key = f"{kind}-{victim.source}-{i}"
        series = curated[(i % UNIQUE) // 3]
        delivery = Delivery(kind, victim.source, key, _payload(victim.source, key, series, 1))
        delivery.forgery = ("secret", "tampered", "unsigned")[i % 3] if kind == "forged" else ""
        plan.append(delivery)
    rng.shuffle(plan)
    assert len(plan) == TOTAL
    return plan


def _request(delivery: Delivery) -> tuple[bytes, dict[str, str]]:
    body = encode(delivery.payload)
    if delivery.kind == "stale":
        old = int(time.time()) - 301 - random.randrange(3600)
        return body, signed(delivery.source, body, timestamp=old)
    if delivery.forgery == "secret":
        return body, signed(delivery.source, body, secret="stolen-or-guessed")
    if delivery.forgery == "tampered":
        return body.replace(b"1", b"7", 1), signed(delivery.source, body)
    if delivery.forgery == "unsigned":
        return body, {"content-type": "application/json"}
    return body, signed(delivery.source, body)  # each attempt is signed afresh, as Stripe does


async def _send(client: httpx.AsyncClient, delivery: Delivery, gate: asyncio.Semaphore) -> None:
    for attempt in range(MAX_ATTEMPTS):
        async with gate:
            body, headers = _request(delivery)
            response = await client.post(
                f"/webhooks/{delivery.source}", content=body, headers=headers
            )
        delivery.statuses.append(response.status_code)
        if response.status_code not in (409, 503):
            delivery.final = response.json()
            return
        await asyncio.sleep(min(MAX_RETRY_WAIT_S, RETRY_WAIT_S * 2**attempt))
    raise AssertionError(f"{delivery.key} was never answered for good: {delivery.statuses}")


def _effect_key(detail_type: str, detail: dict[str, Any]) -> str:
    if detail_type == "PaymentCompleted":
        return str(detail["stripeEventId"])
    if detail_type == "ReviewSubmitted":
        return str(detail["reviewId"])
    return str(detail["batchId"])


@pytest.fixture(params=["sqlite", "postgres"])
def storm_container(request: pytest.FixtureRequest, tmp_path: Path) -> Container:
    overrides: dict[str, Any] = {"queues_url": f"sqlite:///{tmp_path / 'queues.db'}"}
    if request.param == "postgres":
        overrides["store_url"] = request.getfixturevalue("postgres_url")
    return build(webhook_settings(tmp_path, **overrides))


@pytest.fixture
async def storm_client(storm_container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=storm_container)
    async with app.router.lifespan_context(app):
        await storm_container.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
        # Keep every published event, not only the last thousand.
        storm_container.events.recent = deque()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def test_a_storm_of_1000_deliveries_has_each_valid_effect_exactly_once(
    storm_client: httpx.AsyncClient, storm_container: Container
) -> None:
    # Given 1,000 deliveries, shuffled,
    curated = parse_catalog(BUILTIN_CATALOG).records
    plan = _plan(curated, random.Random(20261122))
    gate = asyncio.Semaphore(CONCURRENCY)

    # when senders deliver them all at once, retrying 409 and 503 as real senders do,
    started = time.perf_counter()
    await asyncio.gather(*(_send(storm_client, d, gate) for d in plan))
    elapsed = time.perf_counter() - started

    # then every valid delivery had its effect exactly once,
    events = Counter(
        _effect_key(e.detail_type, dict(e.detail))
        for e in storm_container.events.recent
        if e.detail_type in ("PaymentCompleted", "ReviewSubmitted", "CatalogUpdate.price_change")
    )
    originals = [d for d in plan if d.kind == "original"]
    assert {d.key: events[d.key] for d in originals} == {d.key: 1 for d in originals}
    # and the refused ones none: not one event carries their keys,
    assert sum(events.values()) == UNIQUE
    refused = [d for d in plan if d.kind in ("stale", "forged")]
    for delivery in refused:
        expected = 403 if delivery.kind == "stale" else 401
        assert delivery.statuses == [expected], (delivery.key, delivery.statuses)
    assert {d.final["error"]["code"] for d in refused if d.kind == "stale"} == {
        "WEBHOOK_TIMESTAMP_STALE"
    }
    # of each key exactly one delivery processed it; every other copy was told so,
    valid = [d for d in plan if d.kind in ("original", "duplicate")]
    statuses = Counter((d.key, d.final["status"]) for d in valid)
    for delivery in originals:
        copies = sum(1 for d in valid if d.key == delivery.key)
        assert statuses[(delivery.key, "processed")] == 1
        assert statuses[(delivery.key, "already_processed")] == copies - 1
    # and the catalog holds the valid prices, never a refused delivery's price of 1 yen.
    stored = await storm_container.store.get_series_many([r.id for r in curated])
    for i, delivery in enumerate(plan):
        if delivery.kind == "original" and delivery.source == "catalog":
            [item] = delivery.payload["items"]
            assert stored[item["id"]].price_jpy == item["price_jpy"], i
    assert all(record.price_jpy > 1 for record in stored.values())
    # Search shows them too: every 200 came after a re-index that included its change.
    indexed = {r.id: r.price_jpy for r in (await storm_container.catalog.index()).records}
    assert indexed == {series_id: record.price_jpy for series_id, record in stored.items()}

    retries = sum(len(d.statuses) - 1 for d in valid)
    duplicates_seen = sum(1 for d in valid if d.final["status"] == "already_processed")
    print(
        f"\nstorm on {storm_container.store.backend}: {TOTAL} deliveries, {UNIQUE} valid unique, "
        f"{DUPLICATES} duplicates ({duplicates_seen} answered already_processed), {STALE} stale, "
        f"{FORGED} forged; {retries} retries after 409/503; {elapsed:.1f} s"
    )
    assert elapsed < 30
