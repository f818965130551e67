"""The event bus on Amazon EventBridge, or an EventBridge-compatible server (moto), via aiobotocore.

``EventBus`` already checks entries as EventBridge would and retries what failed for a passing
reason, so this backend only translates (``eventbridge_wire``): ``_put`` is one ``PutEvents``
call, and every way that call can fail becomes a result per entry, never an exception, so
``publish`` retries throttling and outages and stops at what EventBridge will never take (access
denied, validation, a missing bus).

EventBridge assigns its own event ids (PutEvents has no field for ours), keeps rules and
targets, and replays archived events itself: ``ensure_archive`` and ``start_replay`` only ask.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mangaassist.aws_support import LazyClient, aws_client
from mangaassist.events.base import EventBus, PutResult
from mangaassist.events.envelope import Event
from mangaassist.events.eventbridge_wire import (
    EventBridgeEndpoint,
    put_entry,
    put_failure,
    put_results,
)
from mangaassist.events.schemas import SchemaRegistry

if TYPE_CHECKING:
    from types_aiobotocore_events.client import EventBridgeClient
    from types_aiobotocore_events.type_defs import (
        CreateArchiveRequestTypeDef,
        ReplayDestinationTypeDef,
    )

__all__ = ["EventBridgeBus", "EventBridgeEndpoint", "open_eventbridge"]

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
#: Who retries what: the SDK (standard mode: backoff and a retry quota) repeats a whole PutEvents
#: that was throttled, got a 5xx or lost its connection, this many tries in all; then
#: ``EventBus.publish`` repeats the entries still failing with a retryable code (per entry, or
#: every entry of a call the SDK gave up on). At most SDK_ATTEMPTS x 4 requests per chunk.
SDK_ATTEMPTS = 2


class EventBridgeBus(EventBus):
    """Events on one EventBridge bus (``EventBridgeEndpoint`` reads its URL).

    One aiobotocore client per instance, opened by the first call and closed by ``close()``.
    Only PutEvents turns errors into results; the set-up calls (the bus, archives, replays) run
    at start-up or for an operator and raise botocore's errors as they come.
    """

    def __init__(
        self,
        endpoint: EventBridgeEndpoint,
        schemas: SchemaRegistry,
        *,
        account: str | None = None,
        sdk_attempts: int = SDK_ATTEMPTS,
    ) -> None:
        super().__init__(schemas, account=account, region=endpoint.region)
        self.endpoint = endpoint
        self.bus_name = endpoint.bus_name
        self._sdk_attempts = sdk_attempts
        self._client: LazyClient[EventBridgeClient] = LazyClient(self._new_client)
        self._bus_arn: str | None = None

    async def _put(self, events: Sequence[Event]) -> list[PutResult]:
        from botocore.exceptions import BotoCoreError, ClientError

        entries = [put_entry(event, self.bus_name) for event in events]
        try:
            response = await (await self._events()).put_events(Entries=entries)
        except (BotoCoreError, ClientError) as exc:
            return [put_failure(exc)] * len(events)
        return put_results(response.get("Entries", []), len(events))

    # -- the bus and its archives --------------------------------------------------------------

    async def prepare(self) -> None:
        """At start-up: make sure the bus exists."""
        await self.ensure_bus()

    async def ensure_bus(self) -> None:
        """Create the bus unless it exists (``default`` always does)."""
        if self.bus_name == "default":
            return
        client = await self._events()
        with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
            await client.create_event_bus(Name=self.bus_name)

    async def bus_arn(self) -> str:
        """The bus's ARN (archives and replays name the bus by it)."""
        if self._bus_arn is None:
            described = await (await self._events()).describe_event_bus(Name=self.bus_name)
            self._bus_arn = described["Arn"]
        return self._bus_arn

    async def ensure_archive(
        self, name: str, *, event_pattern: Mapping[str, Any] | None = None, retention_days: int = 0
    ) -> str:
        """Archive the bus's events (those matching ``event_pattern``) as ``name``; its ARN.

        An existing archive of that name is kept as it is. ``retention_days=0`` keeps events
        indefinitely.
        """
        client = await self._events()
        request: CreateArchiveRequestTypeDef = {
            "ArchiveName": name,
            "EventSourceArn": await self.bus_arn(),
            "RetentionDays": retention_days,
        }
        if event_pattern is not None:
            request["EventPattern"] = json.dumps(event_pattern)
        try:
            return (await client.create_archive(**request))["ArchiveArn"]
        except client.exceptions.ResourceAlreadyExistsException:
            return (await client.describe_archive(ArchiveName=name))["ArchiveArn"]

    async def start_replay(
        self,
        archive: str,
        start: datetime,
        end: datetime,
        rule_names: Sequence[str] = (),
        *,
        name: str | None = None,
    ) -> str:
        """Replay the archive's events of ``[start, end)`` onto this bus; the replay's name.

        Only ``rule_names`` (rules of this bus) see them when given, else every rule. Targets
        get the events with ``replay-name`` set. EventBridge replays in the background:
        ``replay_state`` says when it is ``COMPLETED``.
        """
        client = await self._events()
        archive_arn = (await client.describe_archive(ArchiveName=archive))["ArchiveArn"]
        destination: ReplayDestinationTypeDef = {"Arn": await self.bus_arn()}
        if rule_names:
            destination["FilterArns"] = [
                (await client.describe_rule(Name=rule, EventBusName=self.bus_name))["Arn"]
                for rule in rule_names
            ]
        replay = name or f"{archive}-{uuid.uuid4().hex[:12]}"  # names take up to 64 characters
        await client.start_replay(
            ReplayName=replay,
            EventSourceArn=archive_arn,
            EventStartTime=start,
            EventEndTime=end,
            Destination=destination,
        )
        return replay

    async def replay_state(self, name: str) -> str:
        """A replay's state: ``STARTING``, ``RUNNING``, ``COMPLETED``, ``FAILED``, ..."""
        return (await (await self._events()).describe_replay(ReplayName=name))["State"]

    # -- plumbing ------------------------------------------------------------------------------

    async def _events(self) -> EventBridgeClient:
        """The client, created by the first call that needs it."""
        return await self._client.get()

    def _new_client(self) -> contextlib.AbstractAsyncContextManager[EventBridgeClient]:
        return aws_client(
            "events",
            self.endpoint,
            who="EventBridgeBus",
            connect_timeout_s=CONNECT_TIMEOUT_S,
            read_timeout_s=READ_TIMEOUT_S,
            retries={"mode": "standard", "total_max_attempts": self._sdk_attempts},
        )

    async def close(self) -> None:
        """Close the client (a later call opens a new one)."""
        await self._client.close()


def open_eventbridge(
    url: str,
    schemas: SchemaRegistry,
    *,
    account: str | None = None,
    sdk_attempts: int = SDK_ATTEMPTS,
) -> EventBridgeBus:
    """The bus of an ``eventbridge://`` or ``eventbridge+http(s)://`` URL; ``ValueError`` for
    any other. Nothing is sent until the first call (``ensure_bus`` at start-up, if wanted)."""
    return EventBridgeBus(
        EventBridgeEndpoint.from_url(url), schemas, account=account, sdk_attempts=sdk_attempts
    )
