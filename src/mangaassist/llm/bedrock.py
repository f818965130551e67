"""Models on Amazon Bedrock, or a Bedrock-compatible server, through the Converse API.

The provider (``BedrockProvider``) is where Bedrock runs and with which credentials: a region
and the default credential chain (``bedrock://REGION``), or an endpoint with its own keys
(``bedrock+http(s)://[KEY:SECRET@]HOST:PORT?region=REGION``, a fake or a proxy). It holds one
aiobotocore ``bedrock-runtime`` client, opened by the first call and shared by every model on it.
The model (``BedrockModel``) is the API format: a ``ModelRequest`` becomes a Converse request,
ConverseStream's events become text deltas and one ``StreamEnd``.

The router owns retries, timeouts and fallbacks, so the SDK retries nothing and its read timeout
is only a backstop: the router cancels a call (``asyncio.timeout``) when its deadline or
first-token wait is over, and a cancelled call closes its response so the shared client serves
the next one. Every failure, whether the call was refused or the stream broke halfway, is raised
as the ``ModelError`` of its kind (``bedrock_error``), always naming the model.
"""

from __future__ import annotations

import contextlib
import email.utils
import time
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import regex

from mangaassist.aws_support import AwsLocation, LazyClient, aws_client
from mangaassist.llm.base import (
    ChatModel,
    Completion,
    ContextTooLong,
    ModelAuthError,
    ModelError,
    ModelInvalidRequest,
    ModelMalformedResponse,
    ModelOverloaded,
    ModelRequest,
    ModelThrottled,
    ModelTimeout,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
)

if TYPE_CHECKING:
    from types_aiobotocore_bedrock_runtime.client import BedrockRuntimeClient
    from types_aiobotocore_bedrock_runtime.type_defs import (
        InferenceConfigurationTypeDef,
        MessageTypeDef,
        SystemContentBlockTypeDef,
    )

__all__ = [
    "CONNECT_TIMEOUT_S",
    "READ_TIMEOUT_S",
    "BedrockModel",
    "BedrockProvider",
    "bedrock_error",
    "converse_messages",
]

#: A Bedrock endpoint that takes longer than this to accept a connection is not going to answer
#: inside a chat deadline of a few seconds.
CONNECT_TIMEOUT_S = 2.0
#: The longest silence on a socket the SDK tolerates: the router's adaptive read timeout caps at
#: 25 s, and the router cancels the call earlier when the answer's deadline comes first.
READ_TIMEOUT_S = 25.0
#: Streams in flight at once over the shared client (one per answer being generated).
MAX_POOL_CONNECTIONS = 64
#: One attempt per call: the router decides whether to retry, fall back or give up.
SDK_RETRIES: dict[str, Any] = {"total_max_attempts": 1, "mode": "standard"}

#: How Bedrock (and the models behind it) say the prompt does not fit the context window.
_TOO_LONG = regex.compile(
    r"(input|prompt) is too long|too many (input )?tokens|exceed\w*[^.]*context"
    r"|context (window|length)|max(imum)? (input|prompt|context) (length|tokens)",
    regex.IGNORECASE,
)
_THROTTLED = {"throttlingexception", "servicequotaexceededexception", "toomanyrequestsexception"}
_TIMED_OUT = {"modeltimeoutexception"}
_OVERLOADED = {
    "serviceunavailableexception",
    "modelnotreadyexception",
    "internalserverexception",
    "modelerrorexception",
    "modelstreamerrorexception",
    "internalfailure",
}
_AUTH = {
    "accessdeniedexception",
    "unrecognizedclientexception",
    "expiredtokenexception",
    "invalidsignatureexception",
    "incompletesignature",
    "missingauthenticationtokenexception",
}
_INVALID = {"validationexception", "resourcenotfoundexception"}


class BedrockProvider:
    """Where Bedrock runs: region, endpoint, credentials, and the client all its models share.

    The client connects within ``CONNECT_TIMEOUT_S`` and gives up on a silent socket after
    ``READ_TIMEOUT_S`` (a backstop: the router cancels calls earlier using the answer's deadline);
    the SDK retries nothing, as the router owns retries.
    """

    def __init__(
        self,
        location: AwsLocation,
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_pool_connections: int = MAX_POOL_CONNECTIONS,
    ) -> None:
        self.location = location
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._max_pool_connections = max_pool_connections
        self._client: LazyClient[BedrockRuntimeClient] = LazyClient(self._new_client)

    @classmethod
    def from_url(cls, url: str) -> BedrockProvider:
        """The provider of ``bedrock://REGION`` or ``bedrock+http(s)://[KEY:SECRET@]HOST:PORT
        ?region=REGION``; ``ValueError`` for any other URL."""
        expected = "expected bedrock://REGION or bedrock+http(s)://HOST:PORT?region=REGION"
        try:
            location = AwsLocation.from_url(url, "bedrock", "Bedrock")
        except ValueError:
            scheme = urlsplit(url).scheme or "none"  # never the rest: it may hold a secret key
            raise ValueError(f"not a Bedrock URL (scheme {scheme}): {expected}") from None
        if not location.region:
            raise ValueError(f"a Bedrock URL needs a region: {expected}")
        if location.endpoint_url is not None and not location.host:
            raise ValueError(f"a Bedrock endpoint URL needs a host: {expected}")
        if location.path.strip("/"):
            raise ValueError(f"a Bedrock URL has no path (models are chosen by id): {expected}")
        return cls(location)

    @property
    def region(self) -> str:
        """The AWS region calls are signed for."""
        return self.location.region

    def model(self, model_id: str) -> BedrockModel:
        """A model of this provider."""
        return BedrockModel(model_id, self)

    async def client(self) -> BedrockRuntimeClient:
        """The shared client, opened by the first call that needs it."""
        return await self._client.get()

    async def open(self) -> None:
        """Open the client now, at start-up: opening loads the SDK's service model (a few
        hundred milliseconds), which the first answer would otherwise spend from its deadline."""
        await self._client.get()

    async def count_tokens(self, model_id: str, request: ModelRequest) -> int:
        """Input tokens of ``request`` as ``model_id`` counts them (the CountTokens operation;
        it costs nothing, and not every model supports it)."""
        converse: dict[str, Any] = {"messages": converse_messages(request)}
        if request.system:
            converse["system"] = [{"text": request.system}]
        try:
            client = await self.client()
            response = await client.count_tokens(
                modelId=model_id,
                input={"converse": converse},  # type: ignore[typeddict-item]
            )
        except Exception as exc:
            raise bedrock_error(exc, model_id) from exc
        count = _mapping(response).get("inputTokens")
        if not isinstance(count, int):
            raise ModelMalformedResponse(
                f"{model_id}: CountTokens answered without inputTokens", model_id=model_id
            )
        return count

    async def close(self) -> None:
        """Close the client (a later call opens a new one)."""
        await self._client.close()

    def _new_client(self) -> contextlib.AbstractAsyncContextManager[BedrockRuntimeClient]:
        return aws_client(
            "bedrock-runtime",
            self.location,
            who="BedrockProvider",
            connect_timeout_s=self._connect_timeout_s,
            read_timeout_s=self._read_timeout_s,
            retries=SDK_RETRIES,
            max_pool_connections=self._max_pool_connections,
        )


class BedrockModel(ChatModel):
    """One Bedrock model, spoken to with Converse (``complete``) and ConverseStream
    (``stream``)."""

    def __init__(self, model_id: str, provider: BedrockProvider) -> None:
        self.model_id = model_id
        self.provider = provider

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        try:
            client = await self.provider.client()
            response = await client.converse_stream(
                modelId=self.model_id, **self._converse_input(request)
            )
        except Exception as exc:
            raise bedrock_error(exc, self.model_id) from exc
        events = response["stream"]
        stop_reason: str | None = None
        usage: Usage | None = None
        try:
            async for event in events:
                item = _mapping(event)
                if "contentBlockDelta" in item:
                    text = _mapping(_mapping(item["contentBlockDelta"]).get("delta")).get("text")
                    if isinstance(text, str) and text:
                        yield TextDelta(text)
                elif "messageStop" in item:
                    stop_reason = str(_mapping(item["messageStop"]).get("stopReason", ""))
                elif "metadata" in item:
                    usage = self._usage(_mapping(item["metadata"]).get("usage"))
        except Exception as exc:
            raise bedrock_error(exc, self.model_id) from exc
        finally:
            # Frees the connection whichever way the stream ends, cancellation included: the
            # shared client must serve the next call.
            events.close()
        if not stop_reason or usage is None:
            raise ModelMalformedResponse(
                f"{self.model_id}: the stream ended without messageStop and metadata",
                model_id=self.model_id,
            )
        yield StreamEnd(usage, stop_reason)

    async def complete(self, request: ModelRequest) -> Completion:
        """The whole answer in one Converse call (no stream to keep open)."""
        try:
            client = await self.provider.client()
            response = _mapping(
                await client.converse(modelId=self.model_id, **self._converse_input(request))
            )
        except Exception as exc:
            raise bedrock_error(exc, self.model_id) from exc
        content = _mapping(_mapping(response.get("output")).get("message")).get("content")
        stop_reason = response.get("stopReason")
        if not isinstance(content, list) or not isinstance(stop_reason, str):
            raise ModelMalformedResponse(
                f"{self.model_id}: Converse answered without a message", model_id=self.model_id
            )
        text = "".join(
            block["text"]
            for block in content
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        )
        usage = self._usage(response.get("usage"))
        return Completion(text, usage, self.model_id, stop_reason, (text,) if text else ())

    def _converse_input(self, request: ModelRequest) -> dict[str, Any]:
        """The fields of a Converse request, apart from the model id."""
        messages = converse_messages(request)
        if not messages:
            raise ModelInvalidRequest(
                f"{self.model_id}: a Converse request needs a user message", model_id=self.model_id
            )
        inference: InferenceConfigurationTypeDef = {
            "maxTokens": request.max_tokens,
            "temperature": request.temperature,
        }
        fields: dict[str, Any] = {"messages": messages, "inferenceConfig": inference}
        if request.system:
            system: list[SystemContentBlockTypeDef] = [{"text": request.system}]
            fields["system"] = system
        return fields

    def _usage(self, raw: object) -> Usage:
        usage = _mapping(raw)
        input_tokens, output_tokens = usage.get("inputTokens"), usage.get("outputTokens")
        if not isinstance(input_tokens, int) or not isinstance(output_tokens, int):
            raise ModelMalformedResponse(
                f"{self.model_id}: usage without token counts", model_id=self.model_id
            )
        return Usage(input_tokens, output_tokens)


def converse_messages(request: ModelRequest) -> list[MessageTypeDef]:
    """The conversation as Converse wants it: it starts with the customer (a leading assistant
    message is dropped) and roles alternate (consecutive messages of one role are joined)."""
    merged: list[tuple[str, list[str]]] = []
    for message in request.messages:
        if not message.text:
            continue  # Converse refuses empty text blocks
        if not merged and message.role == "assistant":
            continue
        if merged and merged[-1][0] == message.role:
            merged[-1][1].append(message.text)
        else:
            merged.append((message.role, [message.text]))
    return [
        {"role": "user" if role == "user" else "assistant", "content": [{"text": "\n\n".join(t)}]}
        for role, t in merged
    ]


def bedrock_error(exc: BaseException, model_id: str) -> ModelError:
    """The ``ModelError`` for what a Bedrock call raised: a refusal (``ClientError``), an
    exception event inside the stream (``EventStreamError``, also a ``ClientError``), a broken
    connection, a timeout or a response that breaks the protocol."""
    import aiohttp
    from botocore import exceptions as boto
    from botocore.eventstream import ParserError
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ModelError):
        return exc
    if isinstance(exc, boto.ClientError):
        return _client_error(exc, model_id)
    rules: tuple[tuple[tuple[type[BaseException], ...], type[ModelError]], ...] = (
        (
            (
                boto.NoCredentialsError,
                boto.PartialCredentialsError,
                boto.CredentialRetrievalError,
                boto.TokenRetrievalError,
            ),
            ModelAuthError,
        ),
        # TimeoutError: aiohttp's when the socket falls silent in the middle of the stream.
        ((boto.ConnectTimeoutError, boto.ReadTimeoutError, TimeoutError), ModelTimeout),
        ((boto.ParamValidationError, boto.NoRegionError), ModelInvalidRequest),
        ((ParserError, ResponseParserError), ModelMalformedResponse),
        # EndpointConnectionError, ConnectionClosedError, ResponseStreamingError, a reset or a
        # cut in the middle of the stream (ClientPayloadError, ServerDisconnectedError).
        ((boto.BotoCoreError, aiohttp.ClientError, ConnectionError), ModelOverloaded),
    )
    # Anything else is an event or a body of a shape Converse does not have.
    kind = next((k for types, k in rules if isinstance(exc, types)), ModelMalformedResponse)
    message = f"{model_id}: {type(exc).__name__}: {exc}"
    return kind(message, model_id=model_id)


def _client_error(exc: Any, model_id: str) -> ModelError:
    error = _mapping(exc.response.get("Error"))
    code = str(error.get("Code", ""))
    text = str(error.get("Message", "")) or str(exc)
    metadata = _mapping(exc.response.get("ResponseMetadata"))
    status = metadata.get("HTTPStatusCode")
    status = status if isinstance(status, int) else 0
    retry_after = _retry_after_s(_mapping(metadata.get("HTTPHeaders")).get("retry-after"))
    message = f"{model_id}: {code or status}: {text}"
    name = code.lower()
    kind: type[ModelError]
    if name in _THROTTLED or status == 429:
        kind = ModelThrottled
    elif name in _TIMED_OUT or status == 408:
        kind = ModelTimeout
    elif name in _OVERLOADED or status >= 500:
        kind = ModelOverloaded
    elif name in _AUTH or status in (401, 403):
        kind = ModelAuthError
    elif name == "validationexception" and _TOO_LONG.search(text):
        kind = ContextTooLong
    elif name in _INVALID or 400 <= status < 500:
        kind = ModelInvalidRequest
    else:
        kind = ModelOverloaded  # an unknown exception event: treat the model as unavailable
    return kind(message, model_id=model_id, retry_after_s=retry_after)


def _retry_after_s(value: object) -> float | None:
    """Seconds of a ``Retry-After`` header: a number, or an HTTP date."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a missing field then reads as
    absent and the caller reports a malformed response)."""
    return value if isinstance(value, Mapping) else {}
