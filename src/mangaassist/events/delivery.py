"""From a matched event to its targets: queue messages planned at publish, deliveries run as jobs.

Queue targets get their message at once, in the publisher's PutEvents (retries and DLQ are then
the queue's). Webhook and handler targets get a durable ``event_delivery`` job on
``manga-deliveries``; the job runs the target and applies the target's retry policy: another
attempt after the webhook schedule's (or the worker's) backoff while attempts and the event's
age allow, else the delivery is parked in the target's dead-letter queue with the rule, the
target and the reason, from where ``mangaassist dlq redrive`` can send it again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mangaassist.events.envelope import Event, InvalidEvent, format_time, parse_time
from mangaassist.events.handlers import EventHandlers
from mangaassist.events.rules import Rule, Target, TargetKind
from mangaassist.queues.base import BatchEntry
from mangaassist.queues.topology import DELIVERIES_DLQ, DELIVERIES_QUEUE
from mangaassist.queues.worker import Job, PermanentError, TransientError, job_body
from mangaassist.webhooks.outbound import OutboundWebhooks

__all__ = ["EVENT_DELIVERY_JOB", "EventDeliveryJobs", "PlannedDelivery", "plan_deliveries"]

EVENT_DELIVERY_JOB = "event_delivery"


@dataclass(frozen=True, slots=True)
class PlannedDelivery:
    """One message to send for one (event, rule, target)."""

    queue: str
    entry: BatchEntry
    rule: str
    target: str
    #: Where the delivery goes when its queue refuses it for good.
    dead_letter: str


def _delivery_id(event: Event, rule: str, target: str) -> str:
    """Stable per (event, rule, target): FIFO deduplication and the webhook message id."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{event.id}/{rule}/{target}").hex


def _target_input(target: Target, envelope: dict[str, Any], rule: str, now: datetime) -> str | None:
    """The transformed input, or None when the target takes the whole event."""
    transform = target.transform
    if transform.input is None and transform.input_path is None and not transform.input_template:
        return None
    return transform.apply(envelope, rule_name=rule, ingestion_time=format_time(now))


def _queue_entry(
    target: Target,
    event: Event,
    envelope: dict[str, Any],
    rule: str,
    text: str | None,
    key: str,
) -> BatchEntry:
    if target.job_kind is not None:
        payload: Any = envelope if text is None else json.loads(text)
        if not isinstance(payload, dict):
            payload = {"input": payload}
        body = job_body(target.job_kind, f"{event.id}:{rule}:{target.id}", payload)
    else:
        body = text if text is not None else json.dumps(envelope, ensure_ascii=False)
    fifo = target.destination.endswith(".fifo")
    return BatchEntry(
        id=key[:80],
        body=body,
        group_id=(target.message_group_id or event.source) if fifo else None,
        dedup_id=key if fifo else None,
        attributes={"event.id": event.id, "event.rule": rule, "event.target": target.id},
    )


def _delivery_body(key: str, payload: dict[str, Any], envelope_json: str) -> str:
    """``job_body(EVENT_DELIVERY_JOB, key, {"event": envelope, **payload})``, with the event's
    JSON encoded once per event rather than once per target."""
    rest = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    head = json.dumps({"kind": EVENT_DELIVERY_JOB, "id": key}, ensure_ascii=False)
    return f'{head[:-1]}, "payload": {{"event":{envelope_json},{rest[1:]}}}'


def plan_deliveries(
    event: Event, rules: list[Rule], now: datetime, as_dict: dict[str, Any] | None = None
) -> list[PlannedDelivery]:
    """The messages that deliver ``event`` (``as_dict``: its ``to_dict()``, when at hand) to
    every target of the matched ``rules``."""
    planned: list[PlannedDelivery] = []
    if not rules:
        return planned
    envelope = as_dict if as_dict is not None else event.to_dict()
    envelope_json = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    for rule in rules:
        for target in rule.targets:
            key = _delivery_id(event, rule.name, target.id)
            text = _target_input(target, envelope, rule.name, now)
            dead_letter = target.dead_letter or DELIVERIES_DLQ
            if target.kind is TargetKind.QUEUE:
                entry = _queue_entry(target, event, envelope, rule.name, text, key)
                planned.append(
                    PlannedDelivery(target.destination, entry, rule.name, target.id, dead_letter)
                )
                continue
            payload: dict[str, Any] = {
                "rule": rule.name,
                "target": {
                    "id": target.id,
                    "kind": target.kind.value,
                    "destination": target.destination,
                    "maximumRetryAttempts": target.retry.maximum_attempts,
                    "maximumEventAgeInSeconds": target.retry.maximum_event_age_s,
                    "deadLetterQueue": dead_letter,
                },
                "enqueuedAt": format_time(now),
            }
            if text is not None:
                payload["input"] = text
            entry = BatchEntry(
                id=key,
                body=_delivery_body(key, payload, envelope_json),
                attributes={
                    "event.id": event.id,
                    "event.rule": rule.name,
                    "event.target": target.id,
                },
            )
            planned.append(
                PlannedDelivery(DELIVERIES_QUEUE, entry, rule.name, target.id, dead_letter)
            )
    return planned


@dataclass(frozen=True, slots=True)
class _Park:
    """Where a delivery that gives up goes, and what it carries there."""

    dead_letter: str
    attributes: dict[str, str]

    def error(self, reason: str, failure: str | None = None) -> PermanentError:
        return PermanentError(
            reason, dead_letter=self.dead_letter, attributes=self.attributes, failure=failure
        )


def _parsed_input(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class EventDeliveryJobs:
    """The ``event_delivery`` job: run one webhook or handler target."""

    def __init__(
        self,
        handlers: EventHandlers,
        outbound: OutboundWebhooks,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._handlers = handlers
        self._outbound = outbound
        self._clock = clock

    async def handle(self, job: Job) -> None:
        """Deliver, retry by the target's policy, or park in the target's DLQ."""
        payload = job.payload
        try:
            event = Event.from_dict(payload["event"])
            target: Mapping[str, Any] = payload["target"]
            kind = TargetKind(target["kind"])
            rule = str(payload["rule"])
            enqueued_at = parse_time(str(payload["enqueuedAt"]))
        except (KeyError, TypeError, ValueError, InvalidEvent) as exc:
            raise PermanentError(f"not an event delivery: {exc}") from None
        text = payload.get("input")
        text = event.to_json() if text is None else str(text)
        park = _Park(
            str(target.get("deadLetterQueue") or DELIVERIES_DLQ),
            {"event.id": event.id, "event.rule": rule, "event.target": str(target["id"])},
        )
        if kind is TargetKind.HANDLER:
            handler = self._handlers.get(str(target["destination"]))
            if handler is None:
                raise PermanentError(f"no event handler {target['destination']!r}")
            try:
                await handler(event, _parsed_input(text))
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                self._retry_or_park(job, target, enqueued_at, reason, None, park)
            return
        msg_id = "msg_" + _delivery_id(event, rule, str(target["id"]))
        outcome = await self._outbound.deliver(str(target["destination"]), msg_id, text.encode())
        if outcome.delivered:
            return
        if outcome.endpoint_disabled:
            raise park.error("the endpoint is disabled", failure="endpoint_disabled")
        delay = self._outbound.next_delay(job.receive_count, outcome)
        if delay is None:
            raise park.error(f"webhook not delivered: {outcome.reason}")
        self._retry_or_park(job, target, enqueued_at, outcome.reason, delay, park)

    def _retry_or_park(
        self,
        job: Job,
        target: Mapping[str, Any],
        enqueued_at: datetime,
        reason: str,
        delay: float | None,
        park: _Park,
    ) -> None:
        """Raise for another attempt when the retry policy allows one, else park it."""
        retries_left = int(target["maximumRetryAttempts"]) - (job.receive_count - 1)
        age_s = (self._clock() - enqueued_at).total_seconds() + (delay or 0.0)
        if retries_left <= 0:
            raise park.error(f"{reason} (retries exhausted)", "retries_exhausted")
        if age_s > int(target["maximumEventAgeInSeconds"]):
            raise park.error(f"{reason} (event too old)", "event_too_old")
        raise TransientError(reason, retry_after_s=delay)
