"""The embedded event bus end to end: rules and targets, input transformation, retry policies
and per-target dead-letter queues, signed webhook targets with their schedule and endpoint
health, archives and replays, and the admin API — on a real store, real queues, a real worker
and a real HTTP receiver."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.events.envelope import Event
from mangaassist.events.rules import InvalidRuleError
from mangaassist.queues.dead_letters import DeadLetterFilter, DeadLetters
from mangaassist.queues.topology import DELIVERIES_DLQ, DELIVERIES_QUEUE
from mangaassist.queues.worker import Worker
from mangaassist.settings import Settings
from mangaassist.webhooks.signing import new_secret, verify

pytestmark = pytest.mark.timeout(60)

SECRET = new_secret()
TOKEN = "admin-test-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Receiver:
    """A real HTTP server on loopback answering scripted statuses and recording requests."""

    statuses: list[int] = field(default_factory=list)
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            state.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state
    server.shutdown()
    server.server_close()


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'store.db'}",
        "callback_secret": SECRET,
        "callback_allowed_hosts": ["127.0.0.1"],
        "webhook_retry_schedule_s": [0, 0.05, 0.05],
        "admin_token": TOKEN,
        "events_analytics_path": str(tmp_path / "analytics.jsonl"),
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
async def container(tmp_path: Path) -> AsyncIterator[Container]:
    built = build(_settings(tmp_path))
    await built.start()
    yield built
    await built.close()


class Probe:
    """An in-process handler target recording what it gets; fails ``failures`` times first."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[Event, Any]] = []

    async def __call__(self, event: Event, value: Any) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("the probe is down")
        self.calls.append((event, value))


async def _drain(container: Container, *queues: str, seconds: float = 3.0) -> Worker:
    """Run a worker on ``queues`` until they are empty (in flight and delayed included)."""
    worker = Worker(container.queues, container.jobs, list(queues), wait_s=0.05, retry_base_s=0.01)
    task = asyncio.create_task(worker.run())
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            states = [await container.queues.attributes(q) for q in queues]
            if all(s.visible + s.in_flight + s.delayed == 0 for s in states):
                break
    finally:
        worker.stop()
        await task
    return worker


def _payment(order: str = "o-1") -> Event:
    return Event(
        "PaymentCompleted",
        {"orderId": order, "amount": 1500, "currency": "JPY", "items": []},
        source="mangaassist.payments",
    )


async def _put_rule(container: Container, config: dict[str, Any]) -> None:
    await container.rulebook.put(config)


async def test_a_handler_target_gets_the_transformed_input_once(container: Container) -> None:
    # Given a rule sending orders over ¥1,000 to a handler, through an input transformer
    probe = Probe()
    container.event_handlers.register("probe", probe)
    await _put_rule(
        container,
        {
            "name": "big-orders",
            "eventPattern": {
                "detail-type": ["PaymentCompleted"],
                "detail": {"amount": [{"numeric": [">", 1000]}]},
            },
            "targets": [
                {
                    "id": "p",
                    "handler": "probe",
                    "inputTransformer": {
                        "inputPathsMap": {"order": "$.detail.orderId"},
                        "inputTemplate": '{"message": "注文 <order> 🎉"}',
                    },
                }
            ],
        },
    )
    # When a big and a small payment are published and the worker runs
    small = Event(
        "PaymentCompleted",
        {"orderId": "o-0", "amount": 500, "currency": "JPY"},
        source="mangaassist.payments",
    )
    await container.events.publish(_payment("o-1"), small)
    await _drain(container, DELIVERIES_QUEUE)
    # Then only the big one reached the handler, with the transformed input, once
    assert [value for _, value in probe.calls] == [{"message": "注文 o-1 🎉"}]
    assert probe.calls[0][0].detail["orderId"] == "o-1"


async def test_a_failing_handler_is_retried_then_parked_in_its_own_dlq(
    container: Container,
) -> None:
    # Given a handler that always fails and a target allowing 2 retries (3 attempts)
    probe = Probe(failures=100)
    container.event_handlers.register("probe", probe)
    await _put_rule(
        container,
        {
            "name": "orders-to-probe",
            "eventPattern": {"detail-type": ["PaymentCompleted"]},
            "targets": [
                {
                    "id": "p",
                    "handler": "probe",
                    "retryPolicy": {"maximumRetryAttempts": 2},
                    "deadLetterQueue": "manga-fm-dlq",
                }
            ],
        },
    )
    event = _payment()
    await container.events.publish(event)
    await _drain(container, DELIVERIES_QUEUE)
    # Then it was tried 3 times and parked in the target's DLQ with the rule and the reason
    assert probe.failures == 97
    [parked] = await DeadLetters(container.queues).find("manga-fm-dlq", DeadLetterFilter())
    assert parked.attributes["event.rule"] == "orders-to-probe"
    assert parked.attributes["event.id"] == event.id
    assert "retries exhausted" in parked.attributes["dlq.reason"]
    # And the handler coming back plus a redrive delivers it
    probe.failures = 0
    await DeadLetters(container.queues).redrive("manga-fm-dlq", DeadLetterFilter())
    await _drain(container, DELIVERIES_QUEUE)
    assert [e.id for e, _ in probe.calls] == [event.id]


async def test_a_webhook_target_is_signed_and_retried_on_the_schedule(
    container: Container, receiver: Receiver
) -> None:
    # Given a webhook target whose receiver fails twice with 503, then answers 200
    receiver.statuses = [503, 503]
    await _put_rule(
        container,
        {
            "name": "orders-to-crm",
            "eventPattern": {"detail-type": ["PaymentCompleted"]},
            "targets": [{"id": "crm", "webhook": receiver.url, "inputPath": "$.detail"}],
        },
    )
    await container.events.publish(_payment())
    await _drain(container, DELIVERIES_QUEUE)
    # Then three attempts arrived, with the same webhook-id, each correctly signed
    assert len(receiver.requests) == 3
    ids = {headers["webhook-id"] for headers, _ in receiver.requests}
    assert len(ids) == 1
    for headers, body in receiver.requests:
        verify(SECRET, headers, body)
        assert json.loads(body)["orderId"] == "o-1"
    # And the endpoint is healthy again after its success
    health = await container.store.get_endpoint(receiver.url)
    assert health is not None
    assert health.failing_since is None
    assert not health.disabled


async def test_an_endpoint_failing_past_the_period_is_disabled(
    tmp_path: Path, receiver: Receiver
) -> None:
    # Given endpoints are disabled after any failure lasting 0 s, and a receiver always failing
    built = build(_settings(tmp_path, webhook_disable_after_s=0.001))
    await built.start()
    try:
        receiver.statuses = [500] * 10
        await _put_rule(
            built,
            {
                "name": "orders-to-crm",
                "eventPattern": {"detail-type": ["PaymentCompleted"]},
                "targets": [{"id": "crm", "webhook": receiver.url}],
            },
        )
        await built.events.publish(_payment("o-1"))
        await _drain(built, DELIVERIES_QUEUE)
        sent = len(receiver.requests)
        health = await built.store.get_endpoint(receiver.url)
        assert health is not None
        assert health.disabled
        # When another event comes, nothing is sent: it goes straight to the DLQ
        await built.events.publish(_payment("o-2"))
        await _drain(built, DELIVERIES_QUEUE)
        assert len(receiver.requests) == sent
        letters = await DeadLetters(built.queues).find(DELIVERIES_DLQ, DeadLetterFilter())
        parked = [p for p in letters if p.attributes.get("event.rule") == "orders-to-crm"]
        assert {p.attributes["dlq.failure"] for p in parked} >= {"endpoint_disabled"}
        # And an operator re-enabling it lets deliveries through again
        assert await built.store.enable_endpoint(receiver.url)
        receiver.statuses = []
        await built.events.publish(_payment("o-3"))
        await _drain(built, DELIVERIES_QUEUE)
        assert len(receiver.requests) == sent + 1
    finally:
        await built.close()


async def test_a_private_webhook_destination_is_refused_unless_allow_listed(
    tmp_path: Path,
) -> None:
    built = build(_settings(tmp_path, callback_allowed_hosts=[]))
    await built.start()
    try:
        await _put_rule(
            built,
            {
                "name": "to-metadata",
                "eventPattern": {"detail-type": ["PaymentCompleted"]},
                "targets": [{"id": "x", "webhook": "http://169.254.169.254/latest"}],
            },
        )
        await built.events.publish(_payment())
        await _drain(built, DELIVERIES_QUEUE)
        letters = await DeadLetters(built.queues).find(DELIVERIES_DLQ, DeadLetterFilter())
        [parked] = [p for p in letters if p.attributes.get("event.rule") == "to-metadata"]
        assert "CALLBACK_URL" in parked.attributes["dlq.reason"]
    finally:
        await built.close()


async def test_queue_targets_get_jobs_and_fifo_messages(container: Container) -> None:
    await _put_rule(
        container,
        {
            "name": "orders-fifo",
            "eventPattern": {"detail-type": ["PaymentCompleted"]},
            "targets": [{"id": "q", "queue": "manga-fm-ordered.fifo", "inputPath": "$.detail"}],
        },
    )
    await container.events.publish(_payment("o-7"))
    [message] = await container.queues.receive("manga-fm-ordered.fifo", max_messages=10)
    assert json.loads(message.body)["orderId"] == "o-7"
    assert message.group_id == "mangaassist.payments"
    # The built-in payment rule sent the order confirmation job with the whole event
    [job] = await container.queues.receive("manga-fm-normal", max_messages=10)
    body = json.loads(job.body)
    assert body["kind"] == "order_confirmation"
    assert body["payload"]["detail"]["orderId"] == "o-7"


async def test_rules_are_checked_as_eventbridge_checks_them(container: Container) -> None:
    six = [{"id": f"t{i}", "handler": "analytics"} for i in range(6)]
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {"name": "r", "eventPattern": {"source": "not-a-list"}, "targets": []},
            "EVENT_PATTERN_INVALID",
        ),
        ({"name": "r", "eventPattern": {"source": ["a"]}, "targets": six}, "EVENT_RULE_INVALID"),
        ({"name": "bad name!", "eventPattern": {"source": ["a"]}}, "EVENT_RULE_INVALID"),
        (
            {
                "name": "r",
                "eventPattern": {"source": ["a"]},
                "targets": [{"id": "t", "handler": "nope"}],
            },
            "EVENT_TARGET_UNKNOWN_HANDLER",
        ),
        (
            {
                "name": "r",
                "eventPattern": {"source": ["a"]},
                "targets": [{"id": "t", "handler": "analytics", "input": "{}", "inputPath": "$"}],
            },
            "EVENT_TARGET_INPUT_INVALID",
        ),
    ]
    for config, code in cases:
        with pytest.raises(InvalidRuleError) as caught:
            await container.rulebook.put(config)
        assert caught.value.code == code, config


async def test_replay_redelivers_archived_events_marked_as_replays(container: Container) -> None:
    probe = Probe()
    container.event_handlers.register("probe", probe)
    rule = {
        "name": "orders-to-probe",
        "eventPattern": {"detail-type": ["PaymentCompleted"]},
        "targets": [{"id": "p", "handler": "probe"}],
    }
    await _put_rule(container, rule)
    first, second = _payment("o-1"), _payment("o-2")
    await container.events.publish(first, second)
    await _drain(container, DELIVERIES_QUEUE)
    assert len(probe.calls) == 2
    # When the window is replayed to that rule only
    assert container.replayer is not None
    now = datetime.now(UTC)
    report = await container.replayer.replay(
        "mangaassist-archive", now - timedelta(minutes=5), now + timedelta(seconds=1),
        rules=["orders-to-probe"], name="fix-1",
    )  # fmt: skip
    await _drain(container, DELIVERIES_QUEUE)
    # Then both events came again, in order, marked with the replay's name
    assert (report.events, report.deliveries) == (2, 2)
    replayed = probe.calls[2:]
    assert [e.id for e, _ in replayed] == [first.id, second.id]
    assert all(e.replay_name == "fix-1" for e, _ in replayed)
    assert all(value["replay-name"] == "fix-1" for _, value in replayed)
    # And replays are not archived again
    rows = await container.store.archived_events(
        "mangaassist-archive", now - timedelta(minutes=5), now + timedelta(seconds=1)
    )
    assert len([r for r in rows if "PaymentCompleted" in r.body]) == 2


async def test_an_invalid_event_is_refused_and_nothing_is_delivered(container: Container) -> None:
    bad = Event("PaymentCompleted", {"orderId": "", "amount": -1}, source="mangaassist.payments")
    results = await container.events.put_events([bad, _payment()])
    assert results[0].error_code == "EVENT_SCHEMA_INVALID"
    assert "detail/" in (results[0].error_message or "")
    assert results[1].ok
    attrs = await container.queues.attributes("manga-fm-normal")
    assert attrs.visible == 1


async def test_admin_api_manages_rules(tmp_path: Path) -> None:
    app = create_app(container=build(_settings(tmp_path)))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        assert (await client.get("/admin/events/rules")).status_code == 401
        listed = (await client.get("/admin/events/rules", headers=ADMIN)).json()["rules"]
        assert {r["name"] for r in listed} >= {"mangaassist-payment-completed"}
        rule = {
            "name": "orders",
            "eventPattern": {"detail-type": ["PaymentCompleted"]},
            "targets": [{"id": "a", "handler": "analytics"}],
        }
        created = await client.put("/admin/events/rules/orders", json=rule, headers=ADMIN)
        assert created.status_code == 201
        assert created.json()["origin"] == "api"
        again = await client.put("/admin/events/rules/orders", json=rule, headers=ADMIN)
        assert again.status_code == 200
        bad = {**rule, "eventPattern": {"detail-type": [{"prefix": 5}]}}
        refused = await client.put(
            "/admin/events/rules/orders", json=bad, headers={**ADMIN, "Accept-Language": "ja"}
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["code"] == "EVENT_PATTERN_INVALID"
        assert "イベントパターン" in refused.json()["error"]["message"]
        builtin = await client.delete(
            "/admin/events/rules/mangaassist-payment-completed", headers=ADMIN
        )
        assert builtin.status_code == 409
        assert (await client.delete("/admin/events/rules/orders", headers=ADMIN)).status_code == 204
        tested = await client.post(
            "/admin/events/test-pattern",
            json={
                "eventPattern": {"detail": {"n": [{"numeric": [">", 1]}]}},
                "event": {"detail": {"n": 2}},
            },
            headers=ADMIN,
        )
        assert tested.json() == {"result": True}
        put = await client.post(
            "/admin/events",
            json={
                "entries": [
                    {
                        "source": "mangaassist.reviews",
                        "detailType": "ReviewSubmitted",
                        "detail": {},
                    },
                    {"source": "shop.test", "detailType": "Anything", "detail": {"x": "𠮷"}},
                ]
            },
            headers=ADMIN,
        )
        assert put.json()["failedEntryCount"] == 1
        assert put.json()["entries"][0]["errorCode"] == "EVENT_SCHEMA_INVALID"


async def test_admin_api_is_off_without_a_token(tmp_path: Path) -> None:
    app = create_app(container=build(_settings(tmp_path, admin_token=None)))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        answer = await client.get("/admin/events/rules", headers=ADMIN)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "ADMIN_DISABLED"
