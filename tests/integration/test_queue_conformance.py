"""The queue port's behaviour, the same on every backend (SQS semantics as a user sees them).

Every test takes ``queue_backend`` and runs once per name in ``QUEUE_BACKENDS``. Time that
matters (visibility, delays, retention, deduplication) passes through ``elapse``: a fake clock
on SQLite, real sleeps on a backend with its own clock, which is why the durations are short
constants. Long polls always wait in real time, so their waits are fractions of a second.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mangaassist.queues.base import (
    DEDUP_WINDOW_S,
    BatchEntry,
    InvalidParameterError,
    MessageTooLargeError,
    QueueBackend,
    QueueConfig,
    QueueDoesNotExistError,
    ReceiptHandleInvalidError,
    RedrivePolicy,
)
from tests.integration.queue_backends import ChildSpec, Clients, Elapse
from tests.integration.queue_backends.redis import (  # noqa: F401 - fixtures
    redis_child_spec,
    redis_clients,
    redis_clock,
    redis_elapse,
    redis_namespace,
    redis_queue,
)
from tests.integration.queue_backends.sqlite import (  # noqa: F401 - fixtures
    clock,
    sqlite_child_spec,
    sqlite_clients,
    sqlite_elapse,
    sqlite_path,
    sqlite_queue,
)
from tests.integration.queue_backends.sqs import (  # noqa: F401 - fixtures
    moto_server,
    sqs_child_spec,
    sqs_clients,
    sqs_elapse,
    sqs_queue,
    sqs_url,
)
from tests.integration.queue_fixtures import Child

#: Backends the suite runs on; each has a fixture module in ``queue_backends``.
QUEUE_BACKENDS = ["sqlite", "redis", "sqs"]

#: Short, whole seconds (SQS counts in seconds), so a backend on a real clock stays quick.
VISIBILITY_S = 2.0
DELAY_S = 2.0
#: Long-poll waits: real time on every backend.
SHORT_WAIT_S = 0.3
LONG_WAIT_S = 5.0

pytestmark = pytest.mark.timeout(20)


@dataclass(frozen=True)
class Capabilities:
    """Where a backend may answer otherwise: SQS allows more than one answer, or moto (the SQS
    the suite runs on) gives another one. The defaults are the strict answers of SqliteQueue;
    each flag a backend sets to False names the answer a test accepts from it instead."""

    #: One receive from a FIFO queue hands out at most one message per group. SQS "attempts to
    #: return as many messages with the same message group ID as possible", in order, and holds
    #: back the rest of a group while any is in flight (Developer Guide, "FIFO queue delivery
    #: logic"); tests that need one per group receive one message at a time there.
    one_per_fifo_group: bool = True
    #: A delete or heartbeat with an outdated receipt handle fails. SQS: DeleteMessage without the
    #: most recent handle "succeeds, but the message might not be deleted" (API reference); moto
    #: accepts every handle a message ever had.
    stale_handles_refused: bool = True
    #: A second delete with the same handle fails. SQS answers OK again (moto too).
    repeated_delete_refused: bool = True
    #: A heartbeat after the visibility timeout has passed fails. SQS answers OK and leaves the
    #: message visible (moto answers OK and hides it again).
    late_heartbeat_refused: bool = True
    #: Attribute names may be any text. SQS takes A-Z a-z 0-9 _ - . and refuses the rest.
    unicode_attribute_names: bool = True
    #: ``oldest_age_s`` is measured. SQS has no queue attribute for it (only the CloudWatch metric
    #: ApproximateAgeOfOldestMessage), so SqsQueue reports NaN.
    oldest_age: bool = True
    #: A redriven message keeps its id. SQS's redrive assigns "a new messageID" (Developer Guide,
    #: "Configure a dead-letter queue redrive"), and so does SqsQueue's.
    redrive_keeps_message_id: bool = True
    #: A FIFO send dropped as a duplicate returns the first message's id, as SQS does; moto
    #: returns a new id for the dropped copy.
    duplicate_send_returns_first_id: bool = True
    #: The deduplication window outlives a delete of the first message, as on SQS ("Using the
    #: message deduplication ID"); moto only drops a copy of a message still in the queue.
    dedup_window_outlives_delete: bool = True
    #: Concurrent receives never hand out one message twice. SQS delivers at least once ("when
    #: using standard queues, visibility timeout isn't a guarantee against receiving a message
    #: twice", AWS SDK guides); moto's threaded server does it when two receives race. There,
    #: every message must arrive and duplicates must stay rare.
    exclusive_receives: bool = True
    #: Concurrent receives from one FIFO queue never hand out two messages of a group at once.
    #: SQS keeps that promise; moto's threaded server does not (each request takes the groups in
    #: flight as they were when it started, without a lock), so its FIFO order under concurrent
    #: workers is tested with one worker.
    atomic_fifo_receives: bool = True
    #: Messages the test of draining processes sends. Moto recounts a queue on every request, so
    #: each request costs time in proportion to the queue's length: fewer there.
    drain_messages: int = 400

    @property
    def fifo_batch(self) -> int:
        """``max_messages`` of a FIFO receive that must give one message per group."""
        return 10 if self.one_per_fifo_group else 1


#: Backends that differ from the defaults (see ``Capabilities``).
CAPABILITIES = {
    "sqs": Capabilities(
        one_per_fifo_group=False,
        stale_handles_refused=False,
        repeated_delete_refused=False,
        late_heartbeat_refused=False,
        unicode_attribute_names=False,
        oldest_age=False,
        redrive_keeps_message_id=False,
        duplicate_send_returns_first_id=False,
        dedup_window_outlives_delete=False,
        exclusive_receives=False,
        atomic_fifo_receives=False,
        drain_messages=100,
    ),
}


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(params=QUEUE_BACKENDS)
def queue_backend_name(request: pytest.FixtureRequest) -> str:
    """Name of the queue backend a conformance test runs on."""
    return str(request.param)


def _for_backend(request: pytest.FixtureRequest, name: str, what: str) -> Any:
    return request.getfixturevalue(f"{name}_{what}")


@pytest.fixture
def capabilities(queue_backend_name: str) -> Capabilities:
    """Where the backend under test may answer otherwise (``Capabilities``)."""
    return CAPABILITIES.get(queue_backend_name, Capabilities())


@pytest.fixture
def queue_backend(request: pytest.FixtureRequest, queue_backend_name: str) -> QueueBackend:
    """The queue port on every backend (STYLE.md: one suite, every adapter)."""
    backend: QueueBackend = _for_backend(request, queue_backend_name, "queue")
    return backend


@pytest.fixture
def clients(request: pytest.FixtureRequest, queue_backend_name: str) -> Clients:
    """Makes further clients on the same queues (another process's view)."""
    make: Clients = _for_backend(request, queue_backend_name, "clients")
    return make


@pytest.fixture
def elapse(request: pytest.FixtureRequest, queue_backend_name: str) -> Elapse:
    """Let time pass for the backend under test (a backend on a real clock may skip long ones)."""
    passing: Elapse = _for_backend(request, queue_backend_name, "elapse")
    return passing


@pytest.fixture
def child_spec(request: pytest.FixtureRequest, queue_backend_name: str) -> ChildSpec:
    """The arguments with which a child process opens the backend (``queue_fixtures``)."""
    spec: ChildSpec = _for_backend(request, queue_backend_name, "child_spec")
    return spec


async def make_queue(backend: QueueBackend, name: str, **settings: Any) -> str:
    await backend.create_queue(QueueConfig(name, **settings))
    return name


def assert_received_once_each(
    received: list[str], sent: list[str], capabilities: Capabilities
) -> None:
    """Every message exactly once; or, where delivery is at least once, every message and
    rarely one twice (at most one in twenty)."""
    if capabilities.exclusive_receives:
        assert sorted(received) == sorted(sent)
    else:
        assert set(received) == set(sent)
        assert len(received) - len(set(received)) <= len(sent) // 20


async def bodies(
    backend: QueueBackend, queue: str, *, max_messages: int = 10, **receive: Any
) -> list[str]:
    return [m.body for m in await backend.receive(queue, max_messages=max_messages, **receive)]


# -- queues ------------------------------------------------------------------------------------


async def test_unknown_queue_is_refused_everywhere(queue_backend: QueueBackend) -> None:
    await make_queue(queue_backend, "orders")
    calls: list[Callable[[], Awaitable[object]]] = [
        lambda: queue_backend.send("nope", "x"),
        lambda: queue_backend.send_batch("nope", [BatchEntry("1", "x")]),
        lambda: queue_backend.receive("nope"),
        lambda: queue_backend.delete("nope", "1.handle"),
        lambda: queue_backend.change_visibility("nope", "1.handle", 5),
        lambda: queue_backend.purge("nope"),
        lambda: queue_backend.attributes("nope"),
        lambda: queue_backend.redrive("nope", to="orders"),
        lambda: queue_backend.create_queue(QueueConfig("new", redrive=RedrivePolicy("nope"))),
    ]
    for call in calls:
        with pytest.raises(QueueDoesNotExistError):
            await call()
    assert await queue_backend.list_queues() == ["orders"]


async def test_create_is_idempotent_updates_settings_and_other_clients_see_them(
    queue_backend: QueueBackend, clients: Clients
) -> None:
    await make_queue(queue_backend, "orders", visibility_timeout_s=10)
    await make_queue(queue_backend, "orders", visibility_timeout_s=20)
    await make_queue(queue_backend, "orders.fifo", content_based_dedup=True)

    other = clients()
    assert await other.list_queues() == ["orders", "orders.fifo"]
    assert (await other.config("orders")).visibility_timeout_s == 20
    assert (await other.config("orders.fifo")).content_based_dedup


# -- sending and receiving ---------------------------------------------------------------------


async def test_round_trip_keeps_japanese_and_emoji_bodies_and_attributes(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders")
    language = "言語" if capabilities.unicode_attribute_names else "language"
    sent = {
        "『ワンピース』107巻の在庫は？🏴‍☠️📚": {language: "日本語", "emoji": "🎌"},
        "注文 #1234 を発送しました 🚚 𠮷野家": {},
    }
    ids = {await queue_backend.send(queue, body, attributes=attrs) for body, attrs in sent.items()}

    received = await queue_backend.receive(queue, max_messages=10)

    assert {m.body: dict(m.attributes) for m in received} == sent
    assert {m.message_id for m in received} == ids
    assert all(m.receive_count == 1 and m.sent_at.tzinfo is not None for m in received)
    await queue_backend.delete_batch(queue, [m.receipt_handle for m in received])
    assert await queue_backend.receive(queue, max_messages=10) == []
    if not capabilities.unicode_attribute_names:
        with pytest.raises(InvalidParameterError):
            await queue_backend.send(queue, "x", attributes={"言語": "日本語"})


async def test_message_ids_are_unique(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders")
    ids = [await queue_backend.send(queue, "同じ本文") for _ in range(15)]
    for _ in range(3):
        results = await queue_backend.send_batch(
            queue, [BatchEntry(f"e{i}", "同じ本文") for i in range(10)]
        )
        ids += [r.message_id for r in results if r.message_id]

    assert len(set(ids)) == 45
    received: set[str] = set()
    while batch := await queue_backend.receive(queue, max_messages=10):
        received |= {m.message_id for m in batch}
    assert received == set(ids)


async def test_batch_reports_each_entry_on_its_own(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    fifo = await make_queue(queue_backend, "orders.fifo")
    standard = await make_queue(queue_backend, "orders")

    results = await queue_backend.send_batch(
        fifo,
        [
            BatchEntry("first", "a", group_id="g", dedup_id="d1"),
            BatchEntry("no-group", "b", dedup_id="d2"),
            BatchEntry("delayed", "c", group_id="g", dedup_id="d3", delay_s=5),
            BatchEntry("no-dedup", "d", group_id="g"),
            BatchEntry("last", "e", group_id="g", dedup_id="d5"),
        ],
    )
    mixed = await queue_backend.send_batch(
        standard, [BatchEntry("grouped", "x", group_id="g"), BatchEntry("empty", "")]
    )

    assert [r.id for r in results] == ["first", "no-group", "delayed", "no-dedup", "last"]
    assert [r.ok for r in results] == [True, False, False, False, True]
    assert {r.error_code for r in results if not r.ok} == {InvalidParameterError.code}
    assert all(r.error_message for r in results if not r.ok)
    assert [r.ok for r in mixed] == [False, False]
    # "a" and "e" share a group: a receive gives the group's first, or its run in order (SQS)
    assert await bodies(queue_backend, fifo) == (
        ["a"] if capabilities.one_per_fifo_group else ["a", "e"]
    )


async def test_a_too_large_entry_fails_only_itself(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders", max_message_bytes=1024)

    results = await queue_backend.send_batch(
        queue, [BatchEntry("ok", "a" * 1000), BatchEntry("big", "b" * 1025)]
    )

    assert [r.ok for r in results] == [True, False]
    assert results[1].error_code == MessageTooLargeError.code


async def test_batch_limits(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders")
    bad_batches = [
        [],
        [BatchEntry(str(i), "x") for i in range(11)],
        [BatchEntry("same", "x"), BatchEntry("same", "y")],
        [BatchEntry("", "x")],
        [BatchEntry("x" * 129, "x")],
    ]
    for entries in bad_batches:
        with pytest.raises(InvalidParameterError):
            await queue_backend.send_batch(queue, entries)
    for handles in ([], [f"{i}.h" for i in range(11)]):
        with pytest.raises(InvalidParameterError):
            await queue_backend.delete_batch(queue, handles)
    assert (await queue_backend.attributes(queue)).visible == 0


async def test_max_messages_is_1_to_10(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders")
    for start in (0, 10):
        await queue_backend.send_batch(
            queue, [BatchEntry(str(i), f"m{start + i}") for i in range(6)]
        )
    for wrong in (0, 11):
        with pytest.raises(InvalidParameterError):
            await queue_backend.receive(queue, max_messages=wrong)

    assert len(await queue_backend.receive(queue)) == 1
    assert len(await queue_backend.receive(queue, max_messages=10)) == 10
    assert len(await queue_backend.receive(queue, max_messages=10)) == 1


async def test_size_limit_counts_utf8_bytes_exactly(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders", max_message_bytes=1024)
    exactly = "あ" * 341 + "a"  # 342 characters, 1024 bytes

    await queue_backend.send(queue, exactly)
    await queue_backend.send(queue, "a" * 1024)
    for too_large in (exactly + "a", "a" * 1025):
        with pytest.raises(MessageTooLargeError):
            await queue_backend.send(queue, too_large)

    assert sorted(await bodies(queue_backend, queue)) == sorted([exactly, "a" * 1024])


async def test_unreasonable_receive_arguments_are_refused(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders")
    for arguments in ({"wait_s": 21}, {"wait_s": -1}, {"visibility_timeout_s": 43_201}):
        with pytest.raises(InvalidParameterError):
            await queue_backend.receive(queue, **arguments)


# -- visibility --------------------------------------------------------------------------------


async def test_unacknowledged_message_returns_with_a_new_handle(
    queue_backend: QueueBackend, elapse: Elapse, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders", visibility_timeout_s=VISIBILITY_S)
    await queue_backend.send(queue, "発送")
    [first] = await queue_backend.receive(queue)
    assert await queue_backend.receive(queue) == []

    await elapse(VISIBILITY_S)
    [again] = await queue_backend.receive(queue)

    assert (again.message_id, again.receive_count) == (first.message_id, 2)
    assert again.receipt_handle != first.receipt_handle
    if capabilities.stale_handles_refused:
        with pytest.raises(ReceiptHandleInvalidError):
            await queue_backend.delete(queue, first.receipt_handle)
    else:  # SQS answers OK; the message may or may not be gone
        await queue_backend.delete(queue, first.receipt_handle)
    await queue_backend.delete(queue, again.receipt_handle)
    await elapse(VISIBILITY_S)
    assert await queue_backend.receive(queue) == []


async def test_visibility_timeout_of_one_receive(
    queue_backend: QueueBackend, elapse: Elapse
) -> None:
    queue = await make_queue(queue_backend, "orders", visibility_timeout_s=600)
    await queue_backend.send(queue, "a")

    assert await bodies(queue_backend, queue, visibility_timeout_s=0) == ["a"]
    assert await bodies(queue_backend, queue, visibility_timeout_s=VISIBILITY_S) == ["a"]
    assert await bodies(queue_backend, queue) == []
    await elapse(VISIBILITY_S)
    assert await bodies(queue_backend, queue) == ["a"]


async def test_change_visibility_extends_and_zero_releases(
    queue_backend: QueueBackend, elapse: Elapse, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders", visibility_timeout_s=VISIBILITY_S)
    await queue_backend.send(queue, "長い仕事")
    [message] = await queue_backend.receive(queue)

    # A heartbeat keeps a long job hidden past the queue's timeout
    await queue_backend.change_visibility(queue, message.receipt_handle, 3 * VISIBILITY_S)
    await elapse(2 * VISIBILITY_S)
    assert await queue_backend.receive(queue) == []

    # Zero hands it back at once
    await queue_backend.change_visibility(queue, message.receipt_handle, 0)
    [again] = await queue_backend.receive(queue)
    assert again.receive_count == 2
    refused = ["not-a-handle", "1.forged"]
    if capabilities.stale_handles_refused:
        refused.append(message.receipt_handle)
    for stale in refused:
        with pytest.raises(ReceiptHandleInvalidError):
            await queue_backend.change_visibility(queue, stale, 10)

    # Once its timeout has passed, a message is no longer in flight: too late for a heartbeat
    # (SQS answers OK)
    if capabilities.late_heartbeat_refused:
        await elapse(VISIBILITY_S)
        with pytest.raises(ReceiptHandleInvalidError):
            await queue_backend.change_visibility(queue, again.receipt_handle, 10)


async def test_delete_batch_reports_each_handle(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders")
    other = await make_queue(queue_backend, "returns")
    await queue_backend.send_batch(queue, [BatchEntry("1", "a"), BatchEntry("2", "b")])
    await queue_backend.send(other, "c")
    first, second = await queue_backend.receive(queue, max_messages=10)
    [foreign] = await queue_backend.receive(other)

    results = await queue_backend.delete_batch(
        queue, [first.receipt_handle, "garbage", second.receipt_handle, first.receipt_handle]
    )

    # The same handle again fails, or succeeds again (SQS: a repeated delete answers OK)
    assert [r.ok for r in results] == [True, False, True, not capabilities.repeated_delete_refused]
    assert results[1].error_code == ReceiptHandleInvalidError.code
    with pytest.raises(ReceiptHandleInvalidError):
        await queue_backend.delete(queue, foreign.receipt_handle)
    await queue_backend.delete(other, foreign.receipt_handle)


# -- delays, attributes, purge, retention ------------------------------------------------------


async def test_delays_hide_messages_until_due(queue_backend: QueueBackend, elapse: Elapse) -> None:
    standard = await make_queue(queue_backend, "orders")
    slow = await make_queue(queue_backend, "slow", delay_s=DELAY_S)
    fifo = await make_queue(queue_backend, "slow.fifo", delay_s=DELAY_S)
    await queue_backend.send(standard, "later", delay_s=DELAY_S)
    await queue_backend.send(standard, "now")
    await queue_backend.send(slow, "queue delay")
    await queue_backend.send(slow, "no delay", delay_s=0)
    await queue_backend.send(fifo, "fifo", group_id="g", dedup_id="1")
    with pytest.raises(InvalidParameterError):
        await queue_backend.send(fifo, "fifo", group_id="g", dedup_id="2", delay_s=1)

    assert await bodies(queue_backend, standard) == ["now"]
    assert await bodies(queue_backend, slow) == ["no delay"]
    assert await bodies(queue_backend, fifo) == []
    assert (await queue_backend.attributes(standard)).delayed == 1
    await elapse(DELAY_S)
    assert await bodies(queue_backend, standard) == ["later"]
    assert await bodies(queue_backend, slow) == ["queue delay"]
    assert await bodies(queue_backend, fifo) == ["fifo"]


async def test_attributes_count_visible_in_flight_delayed_and_age(
    queue_backend: QueueBackend, elapse: Elapse, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders")
    empty = await queue_backend.attributes(queue)
    assert (empty.visible, empty.in_flight, empty.delayed) == (0, 0, 0)
    if capabilities.oldest_age:
        assert empty.oldest_age_s == 0
    else:
        assert math.isnan(empty.oldest_age_s)
    await queue_backend.send_batch(queue, [BatchEntry(str(i), "x") for i in range(3)])
    await queue_backend.send(queue, "delayed", delay_s=600)
    await queue_backend.receive(queue)

    if capabilities.oldest_age:
        await elapse(5)
    counts = await queue_backend.attributes(queue)

    assert (counts.visible, counts.in_flight, counts.delayed) == (2, 1, 1)
    if capabilities.oldest_age:
        assert 5 <= counts.oldest_age_s < 60
    else:
        assert math.isnan(counts.oldest_age_s)


async def test_purge_empties_the_queue(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders")
    await queue_backend.send_batch(queue, [BatchEntry(str(i), "x") for i in range(3)])
    [in_flight] = await queue_backend.receive(queue)

    await queue_backend.purge(queue)

    counts = await queue_backend.attributes(queue)
    assert (counts.visible, counts.in_flight, counts.delayed) == (0, 0, 0)
    assert await queue_backend.receive(queue) == []
    with pytest.raises(ReceiptHandleInvalidError):
        await queue_backend.delete(queue, in_flight.receipt_handle)


async def test_an_expired_fifo_message_does_not_block_its_group(
    queue_backend: QueueBackend, elapse: Elapse
) -> None:
    queue = await make_queue(queue_backend, "orders.fifo", content_based_dedup=True, retention_s=60)
    await queue_backend.send(queue, "old", group_id="a")
    await elapse(30)
    await queue_backend.send(queue, "young", group_id="a")

    await elapse(31)

    assert await bodies(queue_backend, queue) == ["young"]


async def test_messages_past_retention_are_gone(
    queue_backend: QueueBackend, elapse: Elapse
) -> None:
    queue = await make_queue(queue_backend, "orders", retention_s=60)
    await queue_backend.send(queue, "old")
    await elapse(30)
    await queue_backend.send(queue, "young")

    await elapse(31)

    assert await bodies(queue_backend, queue) == ["young"]
    counts = await queue_backend.attributes(queue)
    assert (counts.visible, counts.in_flight) == (0, 1)
    assert 31 <= counts.oldest_age_s < 60  # the young one's age


# -- dead letters ------------------------------------------------------------------------------


async def test_message_received_too_often_moves_to_the_dead_letter_queue_and_back(
    queue_backend: QueueBackend, elapse: Elapse, capabilities: Capabilities
) -> None:
    # Given a queue whose messages may be received 3 times
    dlq = await make_queue(queue_backend, "orders-dlq")
    queue = await make_queue(
        queue_backend,
        "orders",
        visibility_timeout_s=VISIBILITY_S,
        redrive=RedrivePolicy(dlq, max_receive_count=3),
    )
    message_id = await queue_backend.send(queue, "壊れた注文 💥", attributes={"shop": "渋谷"})

    # When a worker fails on it 3 times
    for attempt in (1, 2, 3):
        [message] = await queue_backend.receive(queue)
        assert message.receive_count == attempt
        await elapse(VISIBILITY_S)

    # Then the 4th attempt finds it in the dead-letter queue instead
    assert await queue_backend.receive(queue) == []
    [dead] = await queue_backend.receive(dlq, visibility_timeout_s=0)
    assert (dead.message_id, dead.body) == (message_id, "壊れた注文 💥")
    assert dead.attributes.items() >= {"shop": "渋谷"}.items()

    # And a redrive puts it back, fresh
    assert await queue_backend.redrive(dlq, to=queue) == 1
    [back] = await queue_backend.receive(queue)
    assert (back.body, back.receive_count) == (dead.body, 1)
    assert (back.message_id == message_id) == capabilities.redrive_keeps_message_id
    assert dict(back.attributes) == {"shop": "渋谷"}
    assert (await queue_backend.attributes(dlq)).visible == 0


async def test_redrive_moves_at_most_max_messages(queue_backend: QueueBackend) -> None:
    dlq = await make_queue(queue_backend, "orders-dlq")
    queue = await make_queue(queue_backend, "orders", redrive=RedrivePolicy(dlq))
    fifo = await make_queue(queue_backend, "orders.fifo")
    await queue_backend.send_batch(dlq, [BatchEntry(str(i), f"m{i}") for i in range(3)])

    assert await queue_backend.redrive(dlq, to=queue, max_messages=2) == 2

    assert sorted(await bodies(queue_backend, queue)) == ["m0", "m1"]
    assert await bodies(queue_backend, dlq) == ["m2"]
    with pytest.raises(InvalidParameterError):
        await queue_backend.redrive(dlq, to=fifo)


# -- FIFO --------------------------------------------------------------------------------------
async def test_fifo_dead_letter_frees_the_group_and_keeps_order_through_a_redrive(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    batch = capabilities.fifo_batch
    # Given a FIFO queue whose messages may be received once, with two messages in one group
    dlq = await make_queue(queue_backend, "orders-dlq.fifo", content_based_dedup=True)
    queue = await make_queue(
        queue_backend,
        "orders.fifo",
        content_based_dedup=True,
        redrive=RedrivePolicy(dlq, max_receive_count=1),
    )
    for body in ("a1", "a2", "a3"):
        await queue_backend.send(queue, body, group_id="a")
    [a1] = await queue_backend.receive(queue, max_messages=batch)
    counts = await queue_backend.attributes(queue)
    assert (counts.visible, counts.in_flight) == (2, 1)  # a2 and a3 wait behind a1

    # When a1 fails and comes back, then a2 fails too
    await queue_backend.change_visibility(queue, a1.receipt_handle, 0)
    [a2] = await queue_backend.receive(queue, max_messages=batch)
    assert a2.body == "a2"  # a1 went to the dead-letter queue and freed the group
    await queue_backend.change_visibility(queue, a2.receipt_handle, 0)
    [a3] = await queue_backend.receive(queue, max_messages=batch)
    assert a3.body == "a3"

    # Then the dead letters keep their order, there and back again
    [dead] = await queue_backend.receive(dlq, max_messages=batch)
    assert dead.body == "a1"
    assert await queue_backend.redrive(dlq, to=queue) == 0  # a2 may not overtake a1 in flight
    await queue_backend.change_visibility(dlq, dead.receipt_handle, 0)
    assert await queue_backend.redrive(dlq, to=queue) == 2
    await queue_backend.delete(queue, a3.receipt_handle)
    assert await bodies(queue_backend, queue, max_messages=batch) == ["a1"]
    assert await bodies(queue_backend, queue) == []


async def test_fifo_delivers_one_message_per_group_in_order(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders.fifo", content_based_dedup=True)
    for body in ("a1", "b1", "a2", "a3", "b2"):
        await queue_backend.send(queue, body, group_id=body[0])

    first = await queue_backend.receive(queue, max_messages=10)
    by_group = {group: [m.body for m in first if m.group_id == group] for group in "ab"}
    if capabilities.one_per_fifo_group:
        assert by_group == {"a": ["a1"], "b": ["b1"]}
    else:  # SQS: as many of a group as it can, in order
        assert by_group == {"a": ["a1", "a2", "a3"], "b": ["b1", "b2"]}
    assert await bodies(queue_backend, queue) == []  # both groups are in flight

    a1 = next(m for m in first if m.body == "a1")
    await queue_backend.delete(queue, a1.receipt_handle)
    # The group's next message, unless it is in flight already; group b stays blocked
    assert await bodies(queue_backend, queue) == (["a2"] if capabilities.one_per_fifo_group else [])


async def test_fifo_group_resumes_with_the_same_message_after_a_timeout(
    queue_backend: QueueBackend, elapse: Elapse, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders.fifo", visibility_timeout_s=VISIBILITY_S)
    for n in (1, 2):
        await queue_backend.send(queue, f"a{n}", group_id="a", dedup_id=str(n))
    assert await bodies(queue_backend, queue, max_messages=capabilities.fifo_batch) == ["a1"]

    await elapse(VISIBILITY_S)

    [again] = await queue_backend.receive(queue, max_messages=capabilities.fifo_batch)
    assert (again.body, again.receive_count) == ("a1", 2)


async def test_fifo_keeps_group_order_under_concurrent_workers(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders.fifo", content_based_dedup=True)
    sent = {group: [f"{group}-{n}" for n in range(6)] for group in "abcde"}
    for n in range(6):
        for group, group_bodies in sent.items():
            await queue_backend.send(queue, group_bodies[n], group_id=group)
    done: dict[str, list[str]] = {group: [] for group in sent}

    async def worker() -> None:
        while batch := await queue_backend.receive(queue, max_messages=10, wait_s=0.2):
            for message in batch:
                assert message.group_id is not None
                done[message.group_id].append(message.body)
                await asyncio.sleep(0)  # the work; other workers run meanwhile
                await queue_backend.delete(queue, message.receipt_handle)

    await asyncio.gather(*(worker() for _ in range(8 if capabilities.atomic_fifo_receives else 1)))

    assert done == sent


async def test_fifo_deduplicates_within_the_window(
    queue_backend: QueueBackend, elapse: Elapse, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders.fifo")
    first = await queue_backend.send(queue, "注文 1", group_id="c-1", dedup_id="order-1")

    again = await queue_backend.send(queue, "注文 1 again", group_id="c-1", dedup_id="order-1")
    if capabilities.duplicate_send_returns_first_id:
        assert again == first
    [message] = await queue_backend.receive(queue, max_messages=10)
    assert message.body == "注文 1"
    await queue_backend.delete(queue, message.receipt_handle)
    # Deleting the first does not end its window
    if capabilities.dedup_window_outlives_delete:
        again = await queue_backend.send(queue, "注文 1", group_id="c-1", dedup_id="order-1")
        if capabilities.duplicate_send_returns_first_id:
            assert again == first
        assert await queue_backend.receive(queue, max_messages=10) == []

    await elapse(DEDUP_WINDOW_S + 1)

    assert await queue_backend.send(queue, "注文 1", group_id="c-1", dedup_id="order-1") != first
    assert await bodies(queue_backend, queue) == ["注文 1"]


async def test_fifo_content_based_deduplication(
    queue_backend: QueueBackend, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders.fifo", content_based_dedup=True)
    strict = await make_queue(queue_backend, "strict.fifo")

    first = await queue_backend.send(queue, "在庫確認 📦", group_id="g")
    again = await queue_backend.send(queue, "在庫確認 📦", group_id="other")
    assert await queue_backend.send(queue, "在庫確認 📦!", group_id="g") != first
    twice = await queue_backend.send_batch(
        queue, [BatchEntry("1", "同じ", group_id="g"), BatchEntry("2", "同じ", group_id="g")]
    )
    if capabilities.duplicate_send_returns_first_id:
        assert again == first
        assert twice[0].message_id == twice[1].message_id
    with pytest.raises(InvalidParameterError):
        await queue_backend.send(strict, "no dedup id", group_id="g")
    assert (await queue_backend.attributes(queue)).visible == 3


# -- concurrency and durability ----------------------------------------------------------------


async def test_concurrent_receivers_never_share_a_message(
    queue_backend: QueueBackend, clients: Clients, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders")
    for start in range(0, 200, 10):
        await queue_backend.send_batch(
            queue, [BatchEntry(str(i), f"m{start + i}") for i in range(10)]
        )
    other = clients()

    async def receiver(client: QueueBackend) -> list[str]:
        got: list[str] = []
        while batch := await client.receive(queue, max_messages=3, wait_s=0.05):
            got += [m.body for m in batch]
        return got

    per_receiver = await asyncio.gather(
        *(receiver(queue_backend) for _ in range(8)), *(receiver(other) for _ in range(4))
    )

    received = [body for got in per_receiver for body in got]
    assert_received_once_each(received, [f"m{n}" for n in range(200)], capabilities)


async def test_processes_draining_one_queue_never_share_a_message(
    queue_backend: QueueBackend, child_spec: ChildSpec, capabilities: Capabilities
) -> None:
    queue = await make_queue(queue_backend, "orders")
    sent: list[str] = []
    for _ in range(capabilities.drain_messages // 10):
        results = await queue_backend.send_batch(
            queue, [BatchEntry(str(i), "x") for i in range(10)]
        )
        sent += [r.message_id for r in results if r.message_id]
    children = [await Child.start(child_spec(), "drain", queue) for _ in range(2)]

    drained = await asyncio.gather(*(child.run() for child in children))
    for child in children:
        await child.finish()

    assert_received_once_each(drained[0] + drained[1], sent, capabilities)


async def test_a_sent_message_survives_a_killed_sender(
    queue_backend: QueueBackend, child_spec: ChildSpec
) -> None:
    queue = await make_queue(queue_backend, "orders")
    child = await Child.start(child_spec(), "send", queue, "クラッシュ前の注文")
    [message_id] = await child.run()

    await child.kill()

    [message] = await queue_backend.receive(queue)
    assert (message.message_id, message.body) == (message_id, "クラッシュ前の注文")


async def test_a_killed_receivers_message_returns_after_its_visibility_timeout(
    queue_backend: QueueBackend, child_spec: ChildSpec, elapse: Elapse
) -> None:
    queue = await make_queue(queue_backend, "orders")
    message_id = await queue_backend.send(queue, "途中で落ちた仕事")
    child = await Child.start(child_spec(), "receive", queue, str(VISIBILITY_S))
    assert await child.run() == [message_id]

    await child.kill()

    assert await queue_backend.receive(queue) == []
    assert (await queue_backend.attributes(queue)).in_flight == 1
    await elapse(VISIBILITY_S)
    [message] = await queue_backend.receive(queue)
    assert (message.message_id, message.receive_count) == (message_id, 2)


async def test_another_client_sees_messages_and_queues(
    queue_backend: QueueBackend, clients: Clients
) -> None:
    queue = await make_queue(queue_backend, "orders")
    await queue_backend.send(queue, "from the first client")

    other = clients()

    assert await other.list_queues() == ["orders"]
    assert await bodies(other, queue) == ["from the first client"]


# -- long polls --------------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_a_message_arrives(
    queue_backend: QueueBackend, clients: Clients
) -> None:
    queue = await make_queue(queue_backend, "orders")
    other = clients()
    for sender in (queue_backend, other):  # this client, then another one (another process)

        async def send_soon(client: QueueBackend = sender) -> None:
            await asyncio.sleep(0.1)
            await client.send(queue, "届いた")

        started = time.monotonic()
        sending = asyncio.create_task(send_soon())
        received = await queue_backend.receive(queue, max_messages=10, wait_s=LONG_WAIT_S)
        await sending

        assert [m.body for m in received] == ["届いた"]
        assert time.monotonic() - started < 1.0
        await queue_backend.delete(queue, received[0].receipt_handle)  # SQS: a purge a minute


async def test_long_poll_returns_nothing_after_the_wait(queue_backend: QueueBackend) -> None:
    queue = await make_queue(queue_backend, "orders", receive_wait_s=SHORT_WAIT_S)

    for wait in (None, SHORT_WAIT_S):  # the queue's setting, then the call's
        started = time.monotonic()
        assert await queue_backend.receive(queue, wait_s=wait) == []
        assert SHORT_WAIT_S - 0.01 <= time.monotonic() - started < SHORT_WAIT_S + 0.5
