"""EventBridgeBus beyond PutEvents: rules and targets, splitting, the bus, failures, replays.

Everything goes over HTTP to a real moto server: rules, SQS targets and queues are made in the
test with a plain aiobotocore client, and what a target received is read back from SQS.
Moto never fails an entry for a passing reason, so ``CannedEventBridge`` (a local HTTP endpoint
answering PutEvents from a script) plays the EventBridge that throttles, fails, or refuses.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from mangaassist.events.base import EventBusError
from mangaassist.events.envelope import Event
from mangaassist.events.eventbridge import EventBridgeBus, open_eventbridge
from mangaassist.events.schemas import SchemaRegistry
from tests.moto_server import MOTO_CREDENTIALS, MotoServer, moto_server

if TYPE_CHECKING:
    from types_aiobotocore_events.client import EventBridgeClient
    from types_aiobotocore_sqs.client import SQSClient

__all__ = ["moto_server"]

pytestmark = pytest.mark.timeout(30)

PAYMENTS = {"source": ["mangaassist.payments"], "detail-type": ["PaymentCompleted"]}


def payment(n: int = 1, **detail: object) -> Event:
    return Event(
        "PaymentCompleted",
        {"orderId": f"order-{n}", "amount": 1980, "currency": "JPY", "n": n, **detail},
        source="mangaassist.payments",
    )


@dataclass
class Aws:
    """Plain clients of the moto server, for what the bus does not do: rules, targets, SQS."""

    events: EventBridgeClient
    sqs: SQSClient

    async def sqs_target(self, bus: str, pattern: Mapping[str, Any]) -> tuple[str, str]:
        """A rule on ``bus`` with ``pattern``, sending to a new queue: (queue URL, rule)."""
        name = f"t-{uuid.uuid4().hex[:12]}"
        queue_url = (await self.sqs.create_queue(QueueName=name))["QueueUrl"]
        attributes = await self.sqs.get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )
        await self.events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(pattern))
        await self.events.put_targets(
            Rule=name,
            EventBusName=bus,
            Targets=[{"Id": "queue", "Arn": attributes["Attributes"]["QueueArn"]}],
        )
        return queue_url, name

    async def drain(self, queue_url: str) -> list[dict[str, Any]]:
        """Every event in the queue, as the target received it (moto delivers during PutEvents,
        so a short poll finds them all)."""
        events: list[dict[str, Any]] = []
        while True:
            response = await self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            messages = response.get("Messages", [])
            if not messages:
                return events
            for message in messages:
                events.append(json.loads(message["Body"]))
                await self.sqs.delete_message(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                )


@pytest.fixture
async def aws(moto_server: MotoServer) -> AsyncIterator[Aws]:
    key, secret = MOTO_CREDENTIALS
    options: dict[str, Any] = {
        "endpoint_url": moto_server.endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": key,
        "aws_secret_access_key": secret,
    }
    session = get_session()
    async with AsyncExitStack() as stack:
        events = await stack.enter_async_context(session.create_client("events", **options))
        sqs = await stack.enter_async_context(session.create_client("sqs", **options))
        yield Aws(events, sqs)


@pytest.fixture
async def bus(moto_server: MotoServer) -> AsyncIterator[EventBridgeBus]:
    """A bus of this test's own on the moto server, created."""
    bus = open_eventbridge(
        moto_server.eventbridge_url(bus=f"t-{uuid.uuid4().hex[:12]}"), SchemaRegistry.load()
    )
    await bus.ensure_bus()
    yield bus
    await bus.close()


# -- on moto -----------------------------------------------------------------------------------


async def test_a_rule_target_receives_exactly_the_matching_events_intact(
    bus: EventBridgeBus, aws: Aws
) -> None:
    # Given a rule for PaymentCompleted on the bus, sending to a queue
    queue_url, _ = await aws.sqs_target(bus.bus_name, PAYMENTS)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    matching = Event(
        "PaymentCompleted",
        {"orderId": "注文-1", "amount": 1980, "currency": "JPY", "note": "ありがとう🎉"},
        source="mangaassist.payments",
        time=moment,
        resources=("arn:aws:mangaassist:order/1",),
    )
    refund = Event(
        "RefundProcessed",
        {"chargeId": "ch-2", "amount": 1980},
        source="mangaassist.payments",
    )
    chat = Event("ChatMessageReceived", {"sessionId": "s", "language": "ja", "length": 1})

    # When events of several kinds are published
    await bus.publish(chat, matching, refund)

    # Then the queue holds the matching one only, its envelope as published
    [received] = await aws.drain(queue_url)
    assert received["source"] == "mangaassist.payments"
    assert received["detail-type"] == "PaymentCompleted"
    assert received["detail"] == matching.detail
    assert received["resources"] == ["arn:aws:mangaassist:order/1"]
    assert received["time"] == "2026-01-02T03:04:05Z"


async def test_25_published_events_all_arrive(bus: EventBridgeBus, aws: Aws) -> None:
    queue_url, _ = await aws.sqs_target(bus.bus_name, PAYMENTS)

    await bus.publish(*(payment(n) for n in range(25)))

    received = await aws.drain(queue_url)
    assert sorted(event["detail"]["n"] for event in received) == list(range(25))


async def test_more_entries_than_putevents_takes_are_split(bus: EventBridgeBus, aws: Aws) -> None:
    # Given a target, and 11 events that EventBridge refuses in one PutEvents
    queue_url, _ = await aws.sqs_target(bus.bus_name, PAYMENTS)
    events = [payment(n) for n in range(11)]
    entries: list[Any] = [
        {"Source": e.source, "DetailType": e.detail_type, "Detail": json.dumps(e.detail)}
        for e in events
    ]
    with pytest.raises(ClientError, match="less than or equal to 10"):
        await aws.events.put_events(Entries=entries)

    # When the bus publishes them
    await bus.publish(*events)

    # Then all 11 arrive
    assert len(await aws.drain(queue_url)) == 11


async def test_ensure_bus_creates_the_bus_once(moto_server: MotoServer, aws: Aws) -> None:
    name = f"t-{uuid.uuid4().hex[:12]}"
    bus = open_eventbridge(moto_server.eventbridge_url(bus=name), SchemaRegistry.load())
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        await aws.events.describe_event_bus(Name=name)

    await bus.ensure_bus()
    await bus.ensure_bus()
    await bus.close()

    listed = await aws.events.list_event_buses(NamePrefix=name)
    assert [b["Name"] for b in listed["EventBuses"]] == [name]


async def test_publishing_to_a_missing_bus_fails_for_good(moto_server: MotoServer) -> None:
    url = moto_server.eventbridge_url(bus=f"missing-{uuid.uuid4().hex[:12]}")
    bus = open_eventbridge(url, SchemaRegistry.load())
    try:
        with pytest.raises(EventBusError) as failed:
            await bus.publish(payment())
    finally:
        await bus.close()

    assert [r.error_code for _, r in failed.value.failed] == ["ResourceNotFoundException"]


async def test_an_entry_moto_refuses_fails_alone_in_order(bus: EventBridgeBus) -> None:
    # Moto fails an entry only for what the port already refuses (no source, say), so this
    # goes below ``put_events``, straight to the wire.
    sourceless = Event("PaymentCompleted", {"orderId": "x"}, source="")

    results = await bus._put([payment(1), sourceless, payment(2)])

    assert [r.error_code for r in results] == [None, "InvalidArgument", None]
    assert results[0].event_id
    assert results[2].event_id


async def test_a_replay_redelivers_archived_events_marked_as_replayed(
    bus: EventBridgeBus, aws: Aws
) -> None:
    # Given an archive of the bus (asked for twice) and a rule with a target
    archive = f"t-{uuid.uuid4().hex[:12]}"
    arn = await bus.ensure_archive(archive)
    assert await bus.ensure_archive(archive) == arn
    queue_url, rule = await aws.sqs_target(bus.bus_name, PAYMENTS)
    await bus.publish(payment(1), payment(2))
    assert len(await aws.drain(queue_url)) == 2

    # When the archive is replayed to that rule
    now = datetime.now(UTC)
    replay = await bus.start_replay(archive, now - timedelta(hours=1), now, [rule])

    # Then the target gets the events again, marked with the replay's name
    assert await bus.replay_state(replay) == "COMPLETED"  # moto replays before answering
    replayed = await aws.drain(queue_url)
    assert sorted(event["detail"]["n"] for event in replayed) == [1, 2]
    assert {event["replay-name"] for event in replayed} == {replay}


# -- on a scripted endpoint --------------------------------------------------------------------


class CannedEventBridge:
    """PutEvents over HTTP answering from ``answers`` (status, JSON body), then accepting all;
    ``requests`` keeps the entries of every request."""

    def __init__(self) -> None:
        self.answers: deque[tuple[int, dict[str, Any]]] = deque()
        self.requests: list[list[dict[str, Any]]] = []

    def answer(self, entries: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        self.requests.append(entries)
        if self.answers:
            return self.answers.popleft()
        accepted = [{"EventId": str(uuid.uuid4())} for _ in entries]
        return 200, {"FailedEntryCount": 0, "Entries": accepted}

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a free loopback port; yields a bus URL for it."""
        canned = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = canned.answer(body["Entries"])
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        with ThreadingHTTPServer(("127.0.0.1", 0), Handler) as server:
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield f"eventbridge+http://k:s@127.0.0.1:{server.server_address[1]}/shop"
            finally:
                server.shutdown()
                thread.join()


@pytest.fixture
def canned() -> Iterator[tuple[CannedEventBridge, str]]:
    endpoint = CannedEventBridge()
    with endpoint.serving() as url:
        yield endpoint, url


async def test_publish_retries_the_entry_that_failed_alone(
    canned: tuple[CannedEventBridge, str],
) -> None:
    endpoint, url = canned
    endpoint.answers.append(
        (
            200,
            {
                "FailedEntryCount": 1,
                "Entries": [
                    {"EventId": "e-1"},
                    {"ErrorCode": "InternalFailure", "ErrorMessage": "x"},
                ],
            },
        )
    )
    bus = open_eventbridge(url, SchemaRegistry.load())

    await bus.publish(payment(1), payment(2))
    await bus.close()

    sent = [[json.loads(entry["Detail"])["n"] for entry in r] for r in endpoint.requests]
    assert sent == [[1, 2], [2]]
    assert [e.detail["n"] for e in bus.recent] == [1, 2]


@pytest.mark.parametrize(
    ("status", "code"), [(500, "InternalFailure"), (400, "ThrottlingException")]
)
async def test_a_failed_call_is_retried_by_the_sdk_then_by_publish(
    canned: tuple[CannedEventBridge, str], status: int, code: str
) -> None:
    # Given an endpoint that fails the whole call three times, and an SDK that tries twice
    endpoint, url = canned
    endpoint.answers.extend([(status, {"__type": code, "message": "busy"})] * 3)
    bus = open_eventbridge(url, SchemaRegistry.load(), sdk_attempts=2)

    # When an event is published
    await bus.publish(payment())
    await bus.close()

    # Then the SDK gave up after two, publish tried again, and the SDK's retry of that passed
    assert len(endpoint.requests) == 4
    assert len(bus.recent) == 1


async def test_access_denied_is_not_retried(canned: tuple[CannedEventBridge, str]) -> None:
    endpoint, url = canned
    endpoint.answers.append((400, {"__type": "AccessDeniedException", "message": "no"}))
    bus = open_eventbridge(url, SchemaRegistry.load())

    with pytest.raises(EventBusError) as failed:
        await bus.publish(payment())
    await bus.close()

    assert [r.error_code for _, r in failed.value.failed] == ["AccessDeniedException"]
    assert len(endpoint.requests) == 1


async def test_an_unreachable_endpoint_fails_retryably_then_raises() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    bus = open_eventbridge(
        f"eventbridge+http://k:s@127.0.0.1:{port}/shop", SchemaRegistry.load(), sdk_attempts=1
    )

    [result] = await bus.put_events([payment()])
    with pytest.raises(EventBusError):
        await bus.publish(payment())
    await bus.close()

    assert result.error_code == "InternalFailure"


# -- URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "region", "bus_name", "endpoint_url"),
    [
        ("eventbridge://ap-northeast-1/mangaassist", "ap-northeast-1", "mangaassist", None),
        (
            "eventbridge+http://k:s@127.0.0.1:5000/shop",
            "us-east-1",
            "shop",
            "http://127.0.0.1:5000",
        ),
        ("eventbridge+https://h:443/b?region=eu-west-1", "eu-west-1", "b", "https://h:443"),
    ],
)
def test_urls_name_region_bus_and_endpoint(
    url: str, region: str, bus_name: str, endpoint_url: str | None
) -> None:
    bus = open_eventbridge(url, SchemaRegistry.load())

    assert (bus.endpoint.region, bus.bus_name) == (region, bus_name)
    assert bus.endpoint.endpoint_url == endpoint_url


@pytest.mark.parametrize(
    "url",
    [
        "sqs://us-east-1",
        "eventbridge://ap-northeast-1",
        "eventbridge://ap-northeast-1/",
        "eventbridge:///bus",
        "eventbridge+http://127.0.0.1:5000/bad name",
    ],
)
def test_a_bad_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"EventBridge URL|eventbridge://REGION/BUS_NAME"):
        open_eventbridge(url, SchemaRegistry.load())
