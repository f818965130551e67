"""What ``EventBridgeBus`` sends and reads: its URL, PutEvents entries and their results.

Pure functions of their inputs (no client), so the mapping between the port and the EventBridge
API is in one place, as ``queues/sqs_wire.py`` is for SQS. The one rule with consequences:
every way a whole ``PutEvents`` call fails becomes a ``PutResult`` for each entry, retryable
(``ThrottlingException``, ``InternalFailure``) when a later call may pass, so ``publish`` needs
no second path for exceptions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mangaassist.aws_support import AwsLocation
from mangaassist.events.base import PutResult
from mangaassist.events.envelope import Event

if TYPE_CHECKING:
    from types_aiobotocore_events.type_defs import (
        PutEventsRequestEntryTypeDef,
        PutEventsResultEntryTypeDef,
    )

__all__ = ["EventBridgeEndpoint", "put_entry", "put_failure", "put_results"]

#: Event bus names (``default`` included); a partner bus's name has slashes.
_BUS_NAME = re.compile(r"[A-Za-z0-9._/-]{1,256}")
_THROTTLED = {
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "KMSThrottlingException",
}
HTTP_TOO_MANY_REQUESTS = 429
HTTP_SERVER_ERROR = 500


@dataclass(frozen=True, slots=True)
class EventBridgeEndpoint:
    """Which bus, from ``MANGAASSIST_EVENTS_URL``.

    ``eventbridge://REGION/BUS`` is Amazon EventBridge with the default credential chain;
    ``eventbridge+http(s)://HOST:PORT/BUS?region=REGION`` is a compatible server (moto), region
    ``us-east-1`` by default. Credentials may come as ``KEY:SECRET@`` before the host, as in
    the SQS URLs, so a client of a local server never looks for real ones.
    """

    region: str
    bus_name: str
    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> EventBridgeEndpoint:
        where = AwsLocation.from_url(url, "eventbridge", "EventBridge")
        if not where.region or not where.host or not _BUS_NAME.fullmatch(where.path):
            raise ValueError(
                "use eventbridge://REGION/BUS_NAME or "
                "eventbridge+http(s)://KEY:SECRET@HOST:PORT/BUS_NAME?region=REGION "
                "(a bus name is 1-256 of A-Z a-z 0-9 . _ - /)"
            )
        return cls(where.region, where.path, where.endpoint_url, where.access_key, where.secret_key)


def put_entry(event: Event, bus_name: str) -> PutEventsRequestEntryTypeDef:
    """The PutEvents entry of a checked event (EventBridge gives it an id of its own)."""
    return {
        "Source": event.source,
        "DetailType": event.detail_type,
        "Detail": json.dumps(event.detail, ensure_ascii=False, separators=(",", ":")),
        "Resources": list(event.resources),
        "Time": event.time,
        "EventBusName": bus_name,
    }


def put_results(answered: Sequence[PutEventsResultEntryTypeDef], sent: int) -> list[PutResult]:
    """One result per sent entry from PutEvents' ``Entries`` (in the order sent)."""
    if len(answered) != sent:
        lost = PutResult(
            error_code="InternalFailure",
            error_message=f"PutEvents answered {len(answered)} entries for {sent}",
        )
        return [lost] * sent
    return [_result(entry) for entry in answered]


def _result(entry: PutEventsResultEntryTypeDef) -> PutResult:
    if "ErrorCode" in entry:
        return PutResult(error_code=entry["ErrorCode"], error_message=entry.get("ErrorMessage"))
    if "EventId" not in entry:
        return PutResult(error_code="InternalFailure", error_message="PutEvents gave no id")
    return PutResult(event_id=entry["EventId"])


def put_failure(exc: Exception) -> PutResult:
    """The result every entry of a failed ``PutEvents`` call gets: a retryable code when the
    call may pass later (throttled, 5xx, unreachable), else the AWS error's own code."""
    from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
    from botocore.exceptions import ConnectionError as SdkConnectionError

    if isinstance(exc, SdkConnectionError | HTTPClientError):
        return PutResult(error_code="InternalFailure", error_message=f"unreachable: {exc}")
    if isinstance(exc, ParamValidationError):
        return PutResult(error_code="ValidationException", error_message=str(exc))
    if not isinstance(exc, ClientError):  # missing credentials, a bad config: not passing
        return PutResult(error_code=type(exc).__name__, error_message=str(exc))
    error = exc.response.get("Error", {})
    code = error.get("Code") or "UnknownError"
    message = f"{code}: {error.get('Message') or exc}"
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code in _THROTTLED or status == HTTP_TOO_MANY_REQUESTS:
        return PutResult(error_code="ThrottlingException", error_message=message)
    if status >= HTTP_SERVER_ERROR:
        return PutResult(error_code="InternalFailure", error_message=message)
    return PutResult(error_code=code, error_message=message)
