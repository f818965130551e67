"""The webhook idempotency keys of the store, on SQLite and PostgreSQL: one claim wins, a
processed key answers its result, a failed one can be claimed again, leases and TTLs end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from mangaassist.domain.webhook import ClaimOutcome, ClaimState
from mangaassist.store.sql import SqlStore

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
LEASE_S = 300.0
TTL_S = 86_400.0


async def _claim(
    store: SqlStore, key: str = "evt_1", now: datetime = NOW, source: str = "stripe"
) -> ClaimOutcome:
    return await store.claim_webhook(source, key, now=now, lease_s=LEASE_S, ttl_s=TTL_S)


async def test_the_first_claim_wins_and_a_second_sees_it_in_progress(store: SqlStore) -> None:
    first = await _claim(store)
    assert first.state is ClaimState.CLAIMED
    assert first.token
    assert first.expires_at == NOW + timedelta(seconds=LEASE_S)

    second = await _claim(store, now=NOW + timedelta(seconds=10))

    assert second.state is ClaimState.IN_PROGRESS
    assert second.token is None
    assert second.expires_at == NOW + timedelta(seconds=LEASE_S)


async def test_keys_are_per_source(store: SqlStore) -> None:
    assert (await _claim(store, source="stripe")).state is ClaimState.CLAIMED
    assert (await _claim(store, source="reviews")).state is ClaimState.CLAIMED


async def test_a_completed_key_answers_its_result_until_the_ttl_ends(store: SqlStore) -> None:
    claim = await _claim(store)
    result = {"outcome": "processed", "events": 1, "orderId": "注文-1"}
    done = await store.complete_webhook(
        "stripe", "evt_1", result, now=NOW, ttl_s=TTL_S, token=claim.token
    )
    assert done

    duplicate = await _claim(store, now=NOW + timedelta(hours=23))
    assert duplicate.state is ClaimState.COMPLETED
    assert duplicate.result == result

    after_ttl = await _claim(store, now=NOW + timedelta(seconds=TTL_S))
    assert after_ttl.state is ClaimState.CLAIMED


async def test_a_shorter_ttl_applies_to_results_stored_before(store: SqlStore) -> None:
    claim = await _claim(store)
    await store.complete_webhook("stripe", "evt_1", {}, now=NOW, ttl_s=TTL_S, token=claim.token)

    later = NOW + timedelta(hours=2)
    again = await store.claim_webhook("stripe", "evt_1", now=later, lease_s=LEASE_S, ttl_s=3600)

    assert again.state is ClaimState.CLAIMED


async def test_a_released_key_can_be_claimed_again_by_the_senders_retry(store: SqlStore) -> None:
    claim = await _claim(store)
    assert await store.release_webhook("stripe", "evt_1", token=claim.token)
    assert not await store.release_webhook("stripe", "evt_1", token=claim.token)

    retry = await _claim(store, now=NOW + timedelta(seconds=30))

    assert retry.state is ClaimState.CLAIMED
    assert retry.token != claim.token


async def test_a_claim_left_by_a_crashed_process_is_taken_over_after_its_lease(
    store: SqlStore,
) -> None:
    crashed = await _claim(store)
    assert (await _claim(store, now=NOW + timedelta(seconds=LEASE_S - 1))).state is (
        ClaimState.IN_PROGRESS
    )

    takeover = await _claim(store, now=NOW + timedelta(seconds=LEASE_S))
    assert takeover.state is ClaimState.CLAIMED

    # The crashed process waking up late can neither complete nor release the new claim.
    late = NOW + timedelta(seconds=LEASE_S + 5)
    assert not await store.complete_webhook(
        "stripe", "evt_1", {"outcome": "stale"}, now=late, ttl_s=TTL_S, token=crashed.token
    )
    assert not await store.release_webhook("stripe", "evt_1", token=crashed.token)
    assert (await _claim(store, now=late)).state is ClaimState.IN_PROGRESS


async def test_releasing_never_forgets_a_completed_key(store: SqlStore) -> None:
    claim = await _claim(store)
    await store.complete_webhook("stripe", "evt_1", {}, now=NOW, ttl_s=TTL_S, token=claim.token)

    assert not await store.release_webhook("stripe", "evt_1")
    assert (await _claim(store)).state is ClaimState.COMPLETED


async def test_exactly_one_of_twenty_concurrent_claimers_wins(store: SqlStore) -> None:
    for round_ in range(3):
        key = f"evt_race_{round_}"
        outcomes = await asyncio.gather(*(_claim(store, key=key) for _ in range(20)))
        states = [o.state for o in outcomes]
        assert states.count(ClaimState.CLAIMED) == 1
        assert states.count(ClaimState.IN_PROGRESS) == 19


async def test_exactly_one_claimer_takes_over_an_expired_lease(store: SqlStore) -> None:
    await _claim(store)
    later = NOW + timedelta(seconds=LEASE_S + 1)

    outcomes = await asyncio.gather(*(_claim(store, now=later) for _ in range(20)))

    assert [o.state for o in outcomes].count(ClaimState.CLAIMED) == 1


async def test_purge_deletes_keys_whose_lease_or_retention_ended(store: SqlStore) -> None:
    done = await _claim(store, key="done")
    await store.complete_webhook("stripe", "done", {}, now=NOW, ttl_s=60, token=done.token)
    await _claim(store, key="abandoned")  # lease ends at NOW + 300 s
    await _claim(store, key="fresh", now=NOW + timedelta(hours=1))

    purged = await store.purge_webhook_keys(NOW + timedelta(seconds=LEASE_S + 1))

    assert purged == 2
    assert (await _claim(store, key="fresh")).state is ClaimState.IN_PROGRESS


async def test_long_keys_and_japanese_results_round_trip(store: SqlStore) -> None:
    key = "k" * 200
    claim = await _claim(store, key=key)
    result = {"outcome": "rejected", "code": "WEBHOOK_PAYLOAD_INVALID", "reason": "評価がない"}
    await store.complete_webhook("reviews", key, result, now=NOW, ttl_s=TTL_S)
    assert claim.state is ClaimState.CLAIMED
    assert (await _claim(store, key=key, source="reviews")).state is ClaimState.CLAIMED
    assert (await _claim(store, key=key)).state is ClaimState.IN_PROGRESS
    await store.complete_webhook("stripe", key, result, now=NOW, ttl_s=TTL_S)
    assert (await _claim(store, key=key)).result == result
