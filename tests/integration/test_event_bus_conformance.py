"""The event bus port's PutEvents behaviour, the same on every backend.

Every test takes ``event_bus`` and runs once per name in ``EVENT_BACKENDS``: the embedded bus,
and ``EventBridgeBus`` on a moto server with a bus of its own per test (bus names are global in
the server). What EventBridge does beyond PutEvents (rules, targets, replays) is in
``test_eventbridge.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from mangaassist.events.base import MAX_ENTRIES_PER_PUT, EventBus, PutResult
from mangaassist.events.envelope import MAX_EVENT_BYTES, Event, InvalidEvent
from mangaassist.events.eventbridge import open_eventbridge
from mangaassist.events.local import LocalEventBus
from mangaassist.events.ruleset import RuleSet
from mangaassist.events.schemas import SchemaRegistry
from mangaassist.queues.base import QueueBackend
from mangaassist.queues.sqlite import SqliteQueue
from mangaassist.store.sql import SqlStore
from tests.moto_server import MotoServer, moto_server

__all__ = ["moto_server"]

#: Backends the suite runs on; each has a fixture ``<name>_bus``.
EVENT_BACKENDS = ["local", "eventbridge"]

pytestmark = pytest.mark.timeout(30)


def make_local_bus(schemas: SchemaRegistry, queues: QueueBackend, store: SqlStore) -> EventBus:
    """The embedded bus as the suite uses it: real queues and store, no rules (PutEvents
    semantics do not depend on them; adapt here when its constructor changes)."""
    return LocalEventBus(schemas, queues=queues, store=store, rules=RuleSet)


@pytest.fixture
async def local_bus(tmp_path: Path, sqlite_store: SqlStore) -> AsyncIterator[EventBus]:
    queues = SqliteQueue(str(tmp_path / "queues.db"))
    bus = make_local_bus(SchemaRegistry.load(), queues, sqlite_store)
    yield bus
    await bus.close()
    await queues.close()


@pytest.fixture
async def eventbridge_bus(moto_server: MotoServer) -> AsyncIterator[EventBus]:
    url = moto_server.eventbridge_url(bus=f"conformance-{uuid.uuid4().hex[:12]}")
    bus = open_eventbridge(url, SchemaRegistry.load())
    await bus.ensure_bus()
    yield bus
    await bus.close()


@pytest.fixture(params=EVENT_BACKENDS)
def event_bus(request: pytest.FixtureRequest) -> EventBus:
    """The bus a conformance test runs on."""
    bus: EventBus = request.getfixturevalue(f"{request.param}_bus")
    return bus


def chat(n: int, **detail: object) -> Event:
    return Event(
        "ChatMessageReceived",
        {"sessionId": f"s-{n}", "language": "ja", "length": n, **detail},
        source="mangaassist.chat",
    )


def payment(order_id: str = "order-1") -> Event:
    return Event(
        "PaymentCompleted",
        {"orderId": order_id, "amount": 1980, "currency": "JPY"},
        source="mangaassist.payments",
    )


class PutSpy:
    """Records every PutEvents call that ``publish`` makes (``_accept``: ``publish`` checks the
    events once, then hands chunks of 10 to the backend), and its answers (the real call)."""

    def __init__(self, bus: EventBus) -> None:
        self._put_events = bus._accept
        self.calls: list[tuple[list[Event], list[PutResult]]] = []

    async def __call__(self, events: Sequence[Event]) -> list[PutResult]:
        results = await self._put_events(events)
        self.calls.append((list(events), results))
        return results


async def test_put_events_answers_one_result_per_entry_in_order(event_bus: EventBus) -> None:
    events = [chat(1), payment(), chat(2)]

    results = await event_bus.put_events(events)

    assert [r.ok for r in results] == [True, True, True]
    ids = [r.event_id for r in results]
    assert all(ids)
    assert len(set(ids)) == len(ids)
    assert [e.id for e in event_bus.recent] == [e.id for e in events]


async def test_an_invalid_entry_fails_alone_with_its_code(event_bus: EventBus) -> None:
    # Given a batch where three entries break a rule of their own, between valid ones
    bad_schema = Event("PaymentCompleted", {"orderId": ""}, source="mangaassist.payments")
    oversize = chat(2, note="x" * MAX_EVENT_BYTES)
    reserved = Event("Anything", {}, source="aws.x")
    events = [chat(1), bad_schema, payment(), oversize, reserved, chat(3)]

    # When they are put together
    results = await event_bus.put_events(events)

    # Then each invalid one fails with its code and the others are accepted
    assert [r.error_code for r in results] == [
        None,
        "EVENT_SCHEMA_INVALID",
        None,
        "EVENT_TOO_LARGE",
        "EVENT_SOURCE_INVALID",
        None,
    ]
    assert all(r.event_id for r in results if r.ok)
    assert "orderId" in (results[1].error_message or "")
    assert [e.id for e in event_bus.recent] == [events[0].id, events[2].id, events[5].id]


@pytest.mark.parametrize("count", [0, MAX_ENTRIES_PER_PUT + 1])
async def test_put_events_refuses_a_batch_out_of_bounds(event_bus: EventBus, count: int) -> None:
    with pytest.raises(InvalidEvent) as refused:
        await event_bus.put_events([chat(n) for n in range(count)])

    assert refused.value.code == "EVENT_BATCH_INVALID"
    assert not event_bus.recent


async def test_publish_splits_into_puts_of_ten_and_every_event_gets_an_id(
    event_bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = PutSpy(event_bus)
    monkeypatch.setattr(event_bus, "_accept", spy)
    events = [chat(n) for n in range(25)]

    await event_bus.publish(*events)

    assert [len(sent) for sent, _ in spy.calls] == [10, 10, 5]
    assert [e.id for sent, _ in spy.calls for e in sent] == [e.id for e in events]
    ids = [r.event_id for _, results in spy.calls for r in results]
    assert all(ids)
    assert len(set(ids)) == 25


async def test_publish_sends_nothing_when_one_event_is_invalid(event_bus: EventBus) -> None:
    bad = Event("PaymentCompleted", {"orderId": ""}, source="mangaassist.payments")

    with pytest.raises(InvalidEvent) as refused:
        await event_bus.publish(chat(1), bad, chat(2))

    assert refused.value.code == "EVENT_SCHEMA_INVALID"
    assert not event_bus.recent


async def test_japanese_and_emoji_detail_is_taken_as_text(event_bus: EventBus) -> None:
    # Given a detail in Japanese with an emoji, and one whose UTF-8 bytes pass the limit
    # though its characters do not (EventBridge counts bytes; each kana here takes 3)
    detail = {"orderId": "注文-１", "amount": 1980, "currency": "JPY", "note": "ありがとう🎉"}
    kind = Event("PaymentCompleted", detail, source="mangaassist.payments")
    wide = chat(1, text="あ" * (MAX_EVENT_BYTES // 2))

    results = await event_bus.put_events([kind, wide])

    assert results[0].event_id
    assert results[1].error_code == "EVENT_TOO_LARGE"
    assert [dict(e.detail) for e in event_bus.recent] == [detail]
