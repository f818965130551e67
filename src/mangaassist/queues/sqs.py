"""Queues on Amazon SQS, or an SQS-compatible server (moto, ElasticMQ), through aiobotocore.

Each port call is one SQS call or a short run of them: ``send_batch`` is ``SendMessageBatch``,
``receive`` is ``ReceiveMessage`` with every system and message attribute, ``delete_batch`` is
``DeleteMessageBatch`` with a result per entry. SQS keeps the clock, the visibility timeouts,
the redrive policy and FIFO order itself; this module only translates (``sqs_wire``).

Where SQS answers differently from SqliteQueue, it is SQS's behaviour (the conformance suite
names each difference):

- Times are whole seconds: delays and visibility timeouts round up; a fractional long poll waits
  the whole seconds on the server, then polls briefly until the rest has passed.
- One receive from a FIFO queue may return several messages of one group, in order.
- A stale receipt handle (from an earlier receive) is not refused: SQS answers OK, and a delete
  or heartbeat with it may or may not act; a heartbeat after the timeout has passed is OK too.
- ``attributes().oldest_age_s`` is NaN: SQS has no queue attribute for the age of the oldest
  message (it is the CloudWatch metric ``ApproximateAgeOfOldestMessage``).
- A redrive receives from the dead-letter queue, sends to the target and deletes; messages get
  new ids, as SQS's own redrive (``StartMessageMoveTask``) gives them, and lose ``dlq.``
  attributes. ``StartMessageMoveTask`` is not used: it runs asynchronously at a rate, while the
  port moves up to ``max_messages`` and says how many it moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mangaassist.aws_support import LazyClient, aws_client
from mangaassist.queues.base import (
    DLQ_ATTRIBUTE_PREFIX,
    MAX_BATCH,
    MAX_WAIT_S,
    BatchEntry,
    InvalidParameterError,
    QueueAttributes,
    QueueBackend,
    QueueConfig,
    QueueDoesNotExistError,
    QueueError,
    ReceiptHandleInvalidError,
    ReceivedMessage,
    content_dedup_id,
)
from mangaassist.queues.sqs_wire import (
    SqsEndpoint,
    config_from_attributes,
    error_codes,
    port_error,
    queue_attributes,
    queue_name,
    received,
    same_attribute,
    sqs_entry_problem,
    whole_seconds,
)

if TYPE_CHECKING:
    from types_aiobotocore_sqs.client import SQSClient
    from types_aiobotocore_sqs.literals import QueueAttributeNameType
    from types_aiobotocore_sqs.type_defs import (
        MessageAttributeValueTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

__all__ = ["SqsQueue"]

#: A long poll lasts up to 20 s on the server; the HTTP read must outlast it with room to spare.
READ_TIMEOUT_S = MAX_WAIT_S + 10
CONNECT_TIMEOUT_S = 5.0
#: The SDK's standard retry mode (throttling and 5xx, with backoff): a few tries, then the
#: caller decides; a worker's next receive is the next retry anyway.
MAX_ATTEMPTS = 3
#: Every waiting long poll holds a connection, so the pool is larger than botocore's 10.
MAX_CONNECTIONS = 50
#: The fractional rest of a long poll is polled this often (SQS waits in whole seconds).
FRACTION_POLL_S = 0.1
#: A redrive hides what it moves this long: if it dies midway, the messages return to the DLQ.
REDRIVE_VISIBILITY_S = 60
#: A redrive's receives wait this long: a short poll asks only some SQS servers, so an empty
#: short poll does not mean an empty queue; a long poll asks them all.
REDRIVE_WAIT_S = 1
#: Entries of a batch that failed on the server's side (not the sender's) are sent again, after
#: a pause that grows by this much each time (the SDK retries whole requests, not entries).
BATCH_ATTEMPTS = 3
BATCH_RETRY_PAUSE_S = 0.2
#: Answers that mean "SQS cannot serve now" (after the SDK's own retries), not "refused".
HTTP_SERVER_ERROR = 500
_THROTTLED = {
    "ThrottlingException",
    "RequestThrottled",
    "AWS.SimpleQueueService.RequestThrottled",
    "KmsThrottled",
    "KMS.ThrottlingException",
}
_ALREADY_EXISTS = {"QueueAlreadyExists", "QueueNameExists"}


class SqsQueue(QueueBackend):
    """Queues on SQS at ``sqs://REGION`` or ``sqs+http(s)://HOST:PORT`` (see ``SqsEndpoint``).

    One aiobotocore client per instance, opened by the first call and closed by ``close()``.
    Queue URLs are cached: a queue's URL never changes. AWS errors become the port's; an SQS
    that cannot serve now raises ``ConnectionError``, as an unreachable Redis does.
    """

    backend = "sqs"

    def __init__(self, url: str) -> None:
        super().__init__()
        self._endpoint = SqsEndpoint.from_url(url)
        self._prefix = self._endpoint.prefix
        self._urls: dict[str, str] = {}
        self._client: LazyClient[SQSClient] = LazyClient(self._new_client)
        self._where = self._endpoint.endpoint_url or f"region {self._endpoint.region}"

    # -- queues --------------------------------------------------------------------------------

    async def _create_queue(self, config: QueueConfig) -> None:
        dead_letter_arn = None
        if config.redrive is not None:
            dead_letter_arn = await self._arn(config.redrive.dead_letter)
        wanted = queue_attributes(config, dead_letter_arn)
        sqs = await self._sqs()
        try:
            url = await self._url(config.name)
        except QueueDoesNotExistError:
            try:
                with self._errors(config.name):
                    created = await sqs.create_queue(
                        QueueName=self._prefix + config.name, Attributes=wanted
                    )
                self._urls[config.name] = created["QueueUrl"]
                return
            except _AlreadyExistsError:  # another client created it meanwhile, differently
                url = await self._url(config.name)
        with self._errors(config.name):
            current = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]))[
                "Attributes"
            ]
        changed: dict[QueueAttributeNameType, str] = {
            name: value
            for name, value in wanted.items()
            if name != "FifoQueue" and not same_attribute(name, value, current.get(name))
        }
        if config.redrive is None and current.get("RedrivePolicy"):
            changed["RedrivePolicy"] = ""  # removes it
        if changed:
            with self._errors(config.name):
                await sqs.set_queue_attributes(QueueUrl=url, Attributes=changed)

    async def _load_config(self, queue: str) -> QueueConfig | None:
        try:
            url = await self._url(queue)
            with self._errors(queue):
                response = await (await self._sqs()).get_queue_attributes(
                    QueueUrl=url, AttributeNames=["All"]
                )
        except QueueDoesNotExistError:
            return None
        return config_from_attributes(queue, response["Attributes"], self._prefix)

    async def _list_queues(self) -> list[str]:
        paginator = (await self._sqs()).get_paginator("list_queues")
        pages = (
            paginator.paginate(QueueNamePrefix=self._prefix)
            if self._prefix
            else paginator.paginate()
        )
        names: list[str] = []
        with self._errors(None):
            async for page in pages:
                names += [queue_name(url, self._prefix) for url in page.get("QueueUrls", [])]
        return names

    # -- sending -------------------------------------------------------------------------------

    def _entry_problem(self, config: QueueConfig, entry: BatchEntry) -> QueueError | None:
        return super()._entry_problem(config, entry) or sqs_entry_problem(config, entry)

    async def _send(self, config: QueueConfig, entries: list[BatchEntry]) -> list[str]:
        url = await self._url(config.name)
        sqs = await self._sqs()
        # Ids are positions: the port allows ids SQS refuses (it takes [A-Za-z0-9_-]{1,80}).
        pending = {
            str(position): _wire_entry(str(position), config, entry)
            for position, entry in enumerate(entries)
        }
        message_ids: dict[str, str] = {}
        for attempt in range(BATCH_ATTEMPTS):
            await asyncio.sleep(attempt * BATCH_RETRY_PAUSE_S)
            with self._errors(config.name):
                response = await sqs.send_message_batch(
                    QueueUrl=url, Entries=list(pending.values())
                )
            for success in response.get("Successful", []):
                message_ids[success["Id"]] = success["MessageId"]
                del pending[success["Id"]]
            failed = response.get("Failed", [])
            if not pending or any(failure["SenderFault"] for failure in failed):
                break
        if pending:  # the others are sent: the caller's retry may duplicate them (at least once)
            failure = next(iter(response.get("Failed", [])), None)
            detail = f"{failure['Code']}: {failure.get('Message', '')}" if failure else "no answer"
            raise QueueError(
                f"SQS did not take {len(pending)} of {len(entries)} entries ({detail})"
            )
        return [message_ids[str(position)] for position in range(len(entries))]

    # -- receiving -----------------------------------------------------------------------------

    async def _receive(
        self, config: QueueConfig, max_messages: int, wait_s: float, visibility_s: float
    ) -> list[ReceivedMessage]:
        url = await self._url(config.name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            whole = math.floor(max(0.0, deadline - loop.time()))
            messages = await self._receive_once(
                config.name, url, max_messages, whole, whole_seconds(visibility_s)
            )
            remaining = deadline - loop.time()
            if messages or remaining <= 0:
                return messages
            if remaining < 1:
                await asyncio.sleep(min(FRACTION_POLL_S, remaining))

    async def _receive_once(
        self, queue: str, url: str, max_messages: int, wait_s: int, visibility_s: int
    ) -> list[ReceivedMessage]:
        with self._errors(queue):
            response = await (await self._sqs()).receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_s,
                VisibilityTimeout=visibility_s,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
        return [received(message, self._prefix) for message in response.get("Messages", [])]

    async def _delete(self, config: QueueConfig, receipt_handles: list[str]) -> list[bool]:
        # SQS refuses a batch naming one handle twice; a repeated delete with the same handle
        # succeeds on SQS, so a repeat here gets its first occurrence's outcome.
        first = {
            handle: str(position) for position, handle in reversed(list(enumerate(receipt_handles)))
        }
        with self._errors(config.name):
            response = await (await self._sqs()).delete_message_batch(
                QueueUrl=await self._url(config.name),
                Entries=[
                    {"Id": entry_id, "ReceiptHandle": handle} for handle, entry_id in first.items()
                ],
            )
        failed = [f for f in response.get("Failed", []) if not f["SenderFault"]]
        if failed:  # SQS failed, not the handle: a retry may succeed (a delete is idempotent)
            raise QueueError(f"SQS could not delete {len(failed)} messages ({failed[0]['Code']})")
        deleted = {success["Id"] for success in response.get("Successful", [])}
        return [first[handle] in deleted for handle in receipt_handles]

    async def _change_visibility(
        self, config: QueueConfig, receipt_handle: str, timeout_s: float
    ) -> bool:
        url = await self._url(config.name)
        try:
            with self._errors(config.name):
                await (await self._sqs()).change_message_visibility(
                    QueueUrl=url,
                    ReceiptHandle=receipt_handle,
                    VisibilityTimeout=whole_seconds(timeout_s),
                )
        except ReceiptHandleInvalidError:
            return False
        except InvalidParameterError as exc:
            # SQS answers a handle of a deleted message with InvalidParameterValue: "Value ...
            # for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not
            # available for visibility timeout change."
            if "ReceiptHandle" not in str(exc):
                raise
            return False
        return True

    async def _purge(self, config: QueueConfig) -> None:
        url = await self._url(config.name)
        with self._errors(config.name):
            await (await self._sqs()).purge_queue(QueueUrl=url)

    async def _attributes(self, config: QueueConfig) -> QueueAttributes:
        url = await self._url(config.name)
        with self._errors(config.name):
            response = await (await self._sqs()).get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                ],
            )
        counts = response["Attributes"]
        return QueueAttributes(
            visible=int(counts.get("ApproximateNumberOfMessages", 0)),
            in_flight=int(counts.get("ApproximateNumberOfMessagesNotVisible", 0)),
            delayed=int(counts.get("ApproximateNumberOfMessagesDelayed", 0)),
            oldest_age_s=math.nan,  # a CloudWatch metric, not a queue attribute
        )

    async def _redrive(
        self, source: QueueConfig, target: QueueConfig, max_messages: int | None
    ) -> int:
        source_url = await self._url(source.name)
        moved = 0
        while max_messages is None or moved < max_messages:
            room = MAX_BATCH if max_messages is None else min(MAX_BATCH, max_messages - moved)
            batch = await self._receive_once(
                source.name, source_url, room, REDRIVE_WAIT_S, REDRIVE_VISIBILITY_S
            )
            if not batch:
                break
            await self._send(target, [_redriven(str(i), target, m) for i, m in enumerate(batch)])
            await self._delete(source, [message.receipt_handle for message in batch])
            moved += len(batch)
        return moved

    # -- plumbing ------------------------------------------------------------------------------

    async def _sqs(self) -> SQSClient:
        """The client, created by the first call that needs it."""
        return await self._client.get()

    def _new_client(self) -> contextlib.AbstractAsyncContextManager[SQSClient]:
        return aws_client(
            "sqs",
            self._endpoint,
            who="SqsQueue",
            connect_timeout_s=CONNECT_TIMEOUT_S,
            read_timeout_s=READ_TIMEOUT_S,
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            max_pool_connections=MAX_CONNECTIONS,
        )

    async def _url(self, queue: str) -> str:
        """The queue's URL (cached); QueueDoesNotExistError when there is no such queue."""
        url = self._urls.get(queue)
        if url is None:
            with self._errors(queue):
                response = await (await self._sqs()).get_queue_url(QueueName=self._prefix + queue)
            url = self._urls[queue] = response["QueueUrl"]
        return url

    async def _arn(self, queue: str) -> str:
        url = await self._url(queue)
        with self._errors(queue):
            response = await (await self._sqs()).get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn"]
            )
        return response["Attributes"]["QueueArn"]

    @contextlib.contextmanager
    def _errors(self, queue: str | None) -> Iterator[None]:
        """AWS errors as the port's; a queue found missing is forgotten (it may come back).

        An SQS that cannot serve now (unreachable, timing out, failing or throttling after the
        SDK's retries) raises ``ConnectionError``, an ``OSError``, as an unreachable Redis does:
        the worker waits and tries again. Missing credentials and denied access propagate.
        """
        from botocore.exceptions import ClientError, HTTPClientError
        from botocore.exceptions import ConnectionError as SdkConnectionError

        try:
            yield
        except (SdkConnectionError, HTTPClientError) as exc:
            raise ConnectionError(f"SQS at {self._where}: {exc}") from exc
        except ClientError as exc:
            codes = error_codes(exc)
            if codes & _ALREADY_EXISTS:
                raise _AlreadyExistsError(str(exc)) from exc
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status >= HTTP_SERVER_ERROR or codes & _THROTTLED:
                raise ConnectionError(f"SQS at {self._where}: {exc}") from exc
            error = port_error(exc)
            if isinstance(error, QueueDoesNotExistError) and queue is not None:
                self._urls.pop(queue, None)
                self._configs.pop(queue, None)
            if error is exc:
                raise
            raise error from exc

    async def close(self) -> None:
        """Close the client (a later call opens a new one)."""
        await self._client.close()


class _AlreadyExistsError(QueueError):
    """CreateQueue found the queue with other settings (handled inside ``_create_queue``)."""


def _wire_entry(
    entry_id: str, config: QueueConfig, entry: BatchEntry
) -> SendMessageBatchRequestEntryTypeDef:
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        name: {"DataType": "String", "StringValue": value}
        for name, value in entry.attributes.items()
    }
    wire: SendMessageBatchRequestEntryTypeDef = {"Id": entry_id, "MessageBody": entry.body}
    if attributes:
        wire["MessageAttributes"] = attributes
    if config.fifo:  # the queue's delay applies; SQS refuses a per-message one
        assert entry.group_id is not None  # normalized by the port
        assert entry.dedup_id is not None
        wire["MessageGroupId"] = entry.group_id
        wire["MessageDeduplicationId"] = entry.dedup_id
    else:
        wire["DelaySeconds"] = whole_seconds(entry.delay_s or 0.0)
    return wire


def _redriven(entry_id: str, target: QueueConfig, message: ReceivedMessage) -> BatchEntry:
    """A dead letter as a new message for ``target``: due now, without ``dlq.`` attributes.

    A FIFO message gets a deduplication id of this receive, so the copy is not taken for a
    duplicate of the original (sent within five minutes, perhaps) while an SDK retry of this
    very send still is.
    """
    attributes = {
        name: value
        for name, value in message.attributes.items()
        if not name.startswith(DLQ_ATTRIBUTE_PREFIX)
    }
    if not target.fifo:
        return BatchEntry(entry_id, message.body, 0.0, None, None, attributes)
    dedup = content_dedup_id(f"{message.message_id}:{message.receipt_handle}")
    return BatchEntry(entry_id, message.body, None, message.group_id, dedup, attributes)
