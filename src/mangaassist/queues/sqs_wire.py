"""What ``SqsQueue`` sends and reads: URLs, queue attributes, message checks, errors.

Pure functions of their inputs (no client), so the mapping between the port and the SQS API is
in one place: seconds become whole seconds, a queue's settings become its attributes and back,
a received message becomes a ``ReceivedMessage``, and an AWS error becomes the port's.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mangaassist.aws_support import AwsLocation
from mangaassist.queues.base import (
    DLQ_SOURCE_ATTRIBUTE,
    BatchEntry,
    InvalidParameterError,
    MessageTooLargeError,
    QueueConfig,
    QueueDoesNotExistError,
    QueueError,
    ReceiptHandleInvalidError,
    ReceivedMessage,
    RedrivePolicy,
)

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from types_aiobotocore_sqs.literals import QueueAttributeNameType
    from types_aiobotocore_sqs.type_defs import MessageTypeDef

__all__ = [
    "SqsEndpoint",
    "config_from_attributes",
    "error_codes",
    "port_error",
    "queue_attributes",
    "queue_name",
    "received",
    "same_attribute",
    "sqs_entry_problem",
    "whole_seconds",
]

#: SQS limits the port does not check itself (they are SQS's, not every backend's).
MAX_MESSAGE_ATTRIBUTES = 10
MAX_ATTRIBUTE_NAME = 256
#: Names: letters, digits, ``_-.``; no leading, trailing or doubled period; no AWS prefix.
_ATTRIBUTE_NAME = re.compile(r"(?!\.)(?!.*\.\.)[A-Za-z0-9_.-]+(?<!\.)")
_RESERVED_PREFIXES = ("aws.", "amazon.")
#: Characters SQS refuses in bodies and attribute values (it accepts #x9, #xA, #xD and
#: #x20 to #x10FFFF without surrogates and the two non-characters #xFFFE and #xFFFF).
_INVALID_CHARACTER = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PREFIX = re.compile(r"[A-Za-z0-9_-]*")

_MISSING_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
_BAD_HANDLE = {
    "ReceiptHandleIsInvalid",
    "AWS.SimpleQueueService.MessageNotInflight",
    "MessageNotInflight",
}
#: SQS allows one purge per queue a minute.
_PURGING = {"AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress"}
_TOO_LARGE = {"AWS.SimpleQueueService.BatchRequestTooLong", "BatchRequestTooLong"}
_INVALID = {
    "InvalidParameterValue",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidParameterCombination",
    "MissingParameter",
    "InvalidMessageContents",
    "AWS.SimpleQueueService.InvalidBatchEntryId",
    "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "AWS.SimpleQueueService.EmptyBatchRequest",
    "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "AWS.SimpleQueueService.UnsupportedOperation",
    "InvalidBatchEntryId",
    "BatchEntryIdsNotDistinct",
    "EmptyBatchRequest",
    "TooManyEntriesInBatchRequest",
    "UnsupportedOperation",
}


@dataclass(frozen=True, slots=True)
class SqsEndpoint:
    """Where the queues live, from a URL.

    ``sqs://REGION`` is Amazon SQS with the default credential chain; ``sqs+http://HOST:PORT``
    and ``sqs+https://HOST:PORT`` are an SQS-compatible server (moto, ElasticMQ). Both take
    ``?region=`` (the region of a compatible server; ``us-east-1`` by default), ``?prefix=``
    (added to every queue name, e.g. one prefix per environment) and credentials as
    ``KEY:SECRET@`` before the host (otherwise the default chain).
    """

    region: str
    endpoint_url: str | None = None
    prefix: str = ""
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SqsEndpoint:
        where = AwsLocation.from_url(url, "sqs", "SQS")
        prefix = where.query.get("prefix", "")
        if not where.region or not where.host or not _PREFIX.fullmatch(prefix):
            raise ValueError(
                "use sqs://REGION or sqs+http(s)://HOST:PORT?region=REGION, with an optional "
                "&prefix= of letters, digits, '-' and '_'"
            )
        return cls(where.region, where.endpoint_url, prefix, where.access_key, where.secret_key)


def whole_seconds(seconds: float) -> int:
    """SQS counts in whole seconds: round up, so a message is hidden at least as long as asked."""
    return math.ceil(seconds)


def queue_attributes(
    config: QueueConfig, dead_letter_arn: str | None
) -> dict[QueueAttributeNameType, str]:
    """The SQS attributes of a queue's settings (``RedrivePolicy`` needs the DLQ's ARN)."""
    attributes: dict[QueueAttributeNameType, str] = {
        "VisibilityTimeout": str(whole_seconds(config.visibility_timeout_s)),
        "MessageRetentionPeriod": str(whole_seconds(config.retention_s)),
        "DelaySeconds": str(whole_seconds(config.delay_s)),
        "MaximumMessageSize": str(config.max_message_bytes),
        "ReceiveMessageWaitTimeSeconds": str(whole_seconds(config.receive_wait_s)),
    }
    if config.fifo:  # SQS refuses both attributes on a standard queue
        attributes["FifoQueue"] = "true"
        attributes["ContentBasedDeduplication"] = str(config.content_based_dedup).lower()
    if config.redrive is not None and dead_letter_arn is not None:
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": dead_letter_arn,
                "maxReceiveCount": config.redrive.max_receive_count,
            }
        )
    return attributes


def same_attribute(name: str, wanted: str, current: str | None) -> bool:
    """Whether a queue already has an attribute's value (redrive policies compared as JSON)."""
    if current is None or name != "RedrivePolicy":
        return wanted == current
    mine, theirs = json.loads(wanted), json.loads(current)
    return bool(
        mine["deadLetterTargetArn"] == theirs.get("deadLetterTargetArn")
        and int(mine["maxReceiveCount"]) == int(theirs.get("maxReceiveCount", 0))
    )


def queue_name(arn_or_url: str, prefix: str) -> str:
    """The port's name of a queue from its ARN or URL (the last part, without the prefix)."""
    name = re.split(r"[:/]", arn_or_url)[-1]
    return name.removeprefix(prefix)


def config_from_attributes(
    name: str, attributes: Mapping[QueueAttributeNameType, str], prefix: str
) -> QueueConfig:
    """A queue's settings from ``GetQueueAttributes``."""
    redrive = None
    if policy := attributes.get("RedrivePolicy"):
        data = json.loads(policy)
        redrive = RedrivePolicy(
            queue_name(data["deadLetterTargetArn"], prefix), int(data["maxReceiveCount"])
        )
    return QueueConfig(
        name=name,
        visibility_timeout_s=float(attributes["VisibilityTimeout"]),
        retention_s=float(attributes["MessageRetentionPeriod"]),
        delay_s=float(attributes["DelaySeconds"]),
        max_message_bytes=int(attributes["MaximumMessageSize"]),
        receive_wait_s=float(attributes["ReceiveMessageWaitTimeSeconds"]),
        redrive=redrive,
        content_based_dedup=attributes.get("ContentBasedDeduplication") == "true",
    )


def sqs_entry_problem(config: QueueConfig, entry: BatchEntry) -> QueueError | None:
    """What SQS would refuse in an entry the port accepts: its characters, its attributes'
    names and number, and a size that counts the attributes too (SQS counts name, type and
    value of each)."""
    if _INVALID_CHARACTER.search(entry.body):
        return InvalidParameterError("the message body has characters SQS does not accept")
    if len(entry.attributes) > MAX_MESSAGE_ATTRIBUTES:
        return InvalidParameterError(f"SQS takes at most {MAX_MESSAGE_ATTRIBUTES} attributes")
    size = len(entry.body.encode())
    for name, value in entry.attributes.items():
        if (
            len(name) > MAX_ATTRIBUTE_NAME
            or not _ATTRIBUTE_NAME.fullmatch(name)
            or name.lower().startswith(_RESERVED_PREFIXES)
        ):
            return InvalidParameterError(
                f"attribute name {name!r}: SQS takes up to {MAX_ATTRIBUTE_NAME} of A-Z a-z 0-9 "
                "_ - . (no leading, trailing or doubled period, no AWS. or Amazon. prefix)"
            )
        if not value or _INVALID_CHARACTER.search(value):
            return InvalidParameterError(f"attribute {name!r}: SQS needs a non-empty valid value")
        size += len(name.encode()) + len("String") + len(value.encode())
    if size > config.max_message_bytes:
        return MessageTooLargeError(
            f"the message with its attributes is {size} bytes; the queue accepts at most "
            f"{config.max_message_bytes}"
        )
    return None


def received(message: MessageTypeDef, prefix: str) -> ReceivedMessage:
    """A ``ReceivedMessage`` from ``ReceiveMessage`` (system attributes ``All``).

    A message SQS moved to a dead-letter queue names its source queue in the system attribute
    ``DeadLetterQueueSourceArn``; it shows as the ``dlq.source`` attribute, as on SQLite.
    """
    system = message.get("Attributes", {})
    attributes = {
        name: value["StringValue"]
        for name, value in message.get("MessageAttributes", {}).items()
        if "StringValue" in value  # String and Number; Binary is not the port's
    }
    if source := system.get("DeadLetterQueueSourceArn"):
        attributes.setdefault(DLQ_SOURCE_ATTRIBUTE, queue_name(source, prefix))
    return ReceivedMessage(
        message_id=message["MessageId"],
        receipt_handle=message["ReceiptHandle"],
        body=message["Body"],
        receive_count=int(system.get("ApproximateReceiveCount", "1")),
        sent_at=datetime.fromtimestamp(int(system["SentTimestamp"]) / 1000, UTC),
        attributes=attributes,
        group_id=system.get("MessageGroupId"),
        dedup_id=system.get("MessageDeduplicationId"),
    )


def error_codes(exc: ClientError) -> set[str]:
    """An AWS error's codes: botocore reports the JSON protocol's and the query protocol's."""
    error: Mapping[str, object] = exc.response.get("Error", {})
    codes = (error.get("Code"), error.get("QueryErrorCode"))
    return {code for code in codes if isinstance(code, str) and code}


def port_error(exc: ClientError) -> Exception:
    """The port's exception for an AWS error it has one for, else ``exc`` itself (throttling,
    permissions and outages are not requests the queue refuses)."""
    codes = error_codes(exc)
    message = str(exc.response.get("Error", {}).get("Message") or exc)
    if codes & _MISSING_QUEUE:
        return QueueDoesNotExistError(message)
    if codes & _BAD_HANDLE:
        return ReceiptHandleInvalidError(message)
    if codes & _TOO_LARGE:
        return MessageTooLargeError(message)
    if codes & _INVALID:
        return InvalidParameterError(message)
    if codes & _PURGING:
        return QueueError(message)
    return exc
