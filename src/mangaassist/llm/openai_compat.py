"""Models behind an OpenAI-compatible chat completions API: vLLM, Ollama, llama.cpp's server,
LM Studio, LiteLLM.

The provider (``OpenAIProvider``) is where the server runs and with which credentials: a base
URL (``openai+http(s)://HOST:PORT/v1``) and an optional API key, sent as a bearer token. It holds
one ``httpx.AsyncClient``, opened by the first call and shared by every model on the server. The
model (``OpenAICompatModel``) is the API format: a ``ModelRequest`` becomes a chat completions
request, the server-sent events of the stream become text deltas and one ``StreamEnd``.

Servers differ in what they send: usage only when asked (``stream_options.include_usage``) and
not always then, errors as ``{"error": {...}}``, ``{"error": "text"}`` or plain text, and an
error object in the middle of a stream (vLLM, LiteLLM). Usage the server does not report is
estimated; every error becomes the ``ModelError`` of its kind, naming the model and never the key.

The router owns retries, timeouts and fallbacks: the client's timeouts are backstops, and the
router cancels a call (``asyncio.timeout``) when its deadline or first-token wait is over. The
cancelled call closes its response, and the shared client serves the next one.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

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
from mangaassist.llm.sse import SseDecoder

__all__ = [
    "ChatChunkReader",
    "OpenAICompatModel",
    "OpenAIProvider",
    "openai_error",
    "retry_after_s",
]

#: A server that takes longer than this to accept a connection will not answer inside a chat
#: deadline of a few seconds.
CONNECT_TIMEOUT_S: Final = 2.0
#: The longest silence between two pieces of a stream: the router's adaptive read timeout caps
#: at 25 s, and the router cancels the call earlier when the answer's deadline comes first.
READ_TIMEOUT_S: Final = 25.0
#: Streams in flight at once over the shared client (one per answer being generated).
MAX_CONNECTIONS: Final = 64
#: Idle connections are dropped before the usual 5 s keep-alive of servers (uvicorn, Node), so a
#: call never picks a connection the server is closing at that very moment.
KEEPALIVE_EXPIRY_S: Final = 4.0
#: How much of a server's error text an exception message keeps.
MAX_ERROR_TEXT: Final = 300

_DONE: Final = "[DONE]"
#: Chat completions' finish reasons in the port's words; others pass through unchanged.
_STOP_REASONS: Final = {"stop": "end_turn", "length": "max_tokens"}
#: How servers say the prompt does not fit: vLLM and OpenAI ("maximum context length",
#: "context_length_exceeded"), llama.cpp ("exceeds the available context size",
#: "exceed_context_size_error"), LM Studio and LiteLLM ("context length", "too long").
_CONTEXT_MARKERS: Final = (
    "maximum context length",
    "context_length_exceeded",
    "context length",
    "context size",
    "context window",
    "exceed_context_size",
    "exceeds the context",
    "too long",
)
#: Error types of bodies and stream events that carry no HTTP status (LiteLLM, OpenAI), checked
#: in order against the lower-cased type.
_TYPE_STATUS: Final = (
    ("ratelimit", 429),
    ("rate_limit", 429),
    ("authentication", 401),
    ("permission", 403),
    ("notfound", 404),
    ("not_found", 404),
    ("timeout", 408),
    ("badrequest", 400),
    ("invalid_request", 400),
    ("unprocessable", 422),
    ("unavailable", 503),
)


class OpenAIProvider:
    """Where an OpenAI-compatible server runs: base URL, API key, and the client its models share.

    The client connects within ``connect_timeout_s`` and gives up on a stream silent for
    ``read_timeout_s``. Those are backstops: the router cancels a call earlier, with
    ``asyncio.timeout``, using the answer's deadline. The API key is sent as
    ``Authorization: Bearer`` only when it is not empty, and never appears in a log, a ``repr``
    or an error message. The client is opened by the first call, in that call's event loop;
    ``transport`` replaces the network (a Unix socket to a local server, or a test's responses).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str = "",
        *,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_connections: int = MAX_CONNECTIONS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError("an OpenAI-compatible base URL starts with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self._timeout = httpx.Timeout(
            read_timeout_s, connect=connect_timeout_s, pool=connect_timeout_s
        )
        self._limits = httpx.Limits(
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
        )
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_url(cls, url: str, api_key: str = "") -> OpenAIProvider:
        """The provider of ``openai+http(s)://HOST:PORT[/PATH]`` (``/v1`` when the path is
        missing); ``ValueError`` for any other URL. The key is never part of the URL."""
        expected = "expected openai+http://HOST:PORT/v1 or openai+https://HOST/v1"
        parts = urlsplit(url)
        if parts.scheme not in ("openai+http", "openai+https"):
            scheme = url.partition("://")[0] if "://" in url else url[:20]
            raise ValueError(f"not an OpenAI-compatible URL ({scheme}://…): {expected}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("an OpenAI-compatible URL carries no credentials: pass api_key")
        try:
            parts.port  # noqa: B018 - urlsplit checks the port only when it is read
        except ValueError:
            raise ValueError(f"an OpenAI-compatible URL has an invalid port: {expected}") from None
        if not parts.hostname:
            raise ValueError(f"an OpenAI-compatible URL needs a host: {expected}")
        if parts.query or parts.fragment:
            raise ValueError(f"an OpenAI-compatible URL has no query or fragment: {expected}")
        path = parts.path.rstrip("/") or "/v1"
        base_url = f"{parts.scheme.removeprefix('openai+')}://{parts.netloc}{path}"
        return cls(base_url, api_key)

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared client, opened by the first call that needs it."""
        if self._client is None:
            headers = {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=self._timeout,
                limits=self._limits,
                transport=self._transport,
            )
        return self._client

    def model(self, model_name: str, estimate_tokens: Callable[[str], int]) -> OpenAICompatModel:
        """A model served here."""
        return OpenAICompatModel(model_name, self, estimate_tokens)

    def redact(self, text: str) -> str:
        """``text`` without the API key (a server may echo it in an error)."""
        return text.replace(self._api_key, "***") if self._api_key else text

    async def open(self) -> None:
        """Create the client now (it opens connections on first use)."""
        _ = self.client

    async def close(self) -> None:
        """Close the client (a later call opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def __repr__(self) -> str:
        key = ", api_key=***" if self._api_key else ""
        return f"OpenAIProvider({self.base_url!r}{key})"


class OpenAICompatModel(ChatModel):
    """One model of an OpenAI-compatible server, by the name the server knows it by.

    Usage comes from the server when it reports it, else from ``estimate_tokens`` over the
    system prompt, the messages and the answer.
    """

    def __init__(
        self, model_name: str, provider: OpenAIProvider, estimate_tokens: Callable[[str], int]
    ) -> None:
        self.model_id = model_name
        self.provider = provider
        self._estimate = estimate_tokens

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        reader = ChatChunkReader(self.model_id, redact=self.provider.redact)
        decoder = SseDecoder()
        produced: list[str] = []
        try:
            async with self.provider.client.stream(
                "POST", self._url, json=self._body(request, stream=True)
            ) as response:
                await self._raise_for_status(response)
                # Lines after [DONE] are read and ignored: reading the body to its end returns
                # the connection to the pool instead of closing it.
                lines = response.aiter_lines()
                ended = False
                while not ended:
                    line = await anext(lines, None)
                    ended = line is None
                    # The end of the body completes a last event that lacks its blank line.
                    event = decoder.feed("" if line is None else line)
                    if event is not None and not reader.done:
                        text = reader.read(event.data)
                        if text:
                            produced.append(text)
                            yield TextDelta(text)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if not reader.done and reader.finish_reason is None:
            raise ModelMalformedResponse(
                f"{self.model_id}: the stream ended without [DONE] or a finish reason",
                model_id=self.model_id,
            )
        usage = self._usage(request, "".join(produced), reader.prompt_tokens, reader.output_tokens)
        yield StreamEnd(usage, _stop_reason(reader.finish_reason))

    async def complete(self, request: ModelRequest) -> Completion:
        """The whole answer in one call without a stream (``stream: false``)."""
        try:
            response = await self.provider.client.post(
                self._url, json=self._body(request, stream=False)
            )
            await self._raise_for_status(response)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        try:
            body = json.loads(response.content)
        except ValueError as exc:
            raise ModelMalformedResponse(
                f"{self.model_id}: the answer is not JSON", model_id=self.model_id
            ) from exc
        choice = _first_choice(body)
        message = _mapping(choice.get("message"))
        text = message.get("content")
        if not isinstance(text, str | None) or not isinstance(choice.get("finish_reason"), str):
            raise ModelMalformedResponse(
                f"{self.model_id}: the answer has no message and finish reason",
                model_id=self.model_id,
            )
        text = text or ""
        usage = _mapping(_mapping(body).get("usage"))
        prompt, output = _count(usage, "prompt_tokens"), _count(usage, "completion_tokens")
        return Completion(
            text,
            self._usage(request, text, prompt, output),
            self.model_id,
            _stop_reason(choice.get("finish_reason")),
            (text,) if text else (),
        )

    @property
    def _url(self) -> str:
        return f"{self.provider.base_url}/chat/completions"

    def _body(self, request: ModelRequest, *, stream: bool) -> dict[str, Any]:
        """The chat completions request: the system prompt first, then the conversation."""
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.text} for m in request.messages]
        body: dict[str, Any] = {
            "model": self.model_id,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _usage(
        self, request: ModelRequest, text: str, prompt: int | None, output: int | None
    ) -> Usage:
        """Usage as the server reported it, each missing count estimated."""
        if prompt is None:
            prompt = self._estimate(request.system) + sum(
                self._estimate(m.text) for m in request.messages
            )
        return Usage(prompt, self._estimate(text) if output is None else output)

    async def _raise_for_status(self, response: httpx.Response) -> None:
        if response.is_success:
            return
        body = await response.aread()
        raise openai_error(
            response.status_code,
            body,
            model_id=self.model_id,
            retry_after=retry_after_s(response.headers),
            redact=self.provider.redact,
        )

    def _transport_error(self, exc: httpx.HTTPError) -> ModelError:
        """The ``ModelError`` for a connection that failed, timed out or broke mid-stream."""
        kind: type[ModelError]
        if isinstance(exc, httpx.TimeoutException):
            kind = ModelTimeout
        elif isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
            kind = ModelOverloaded  # refused, reset, or cut in the middle of the body
        elif isinstance(exc, httpx.DecodingError):
            kind = ModelMalformedResponse
        else:
            kind = ModelInvalidRequest  # a URL or a header httpx cannot send
        message = self.provider.redact(f"{self.model_id}: {type(exc).__name__}: {exc}")
        return kind(message, model_id=self.model_id)


class ChatChunkReader:
    """Reads the events of one chat completions stream: text, finish reason, usage, ``[DONE]``.

    ``read`` raises ``ModelMalformedResponse`` for data that is not a JSON object, and the
    ``ModelError`` of its kind for an error object sent in the middle of the stream.
    """

    def __init__(self, model_id: str, *, redact: Callable[[str], str] = str) -> None:
        self.model_id = model_id
        self.done = False
        self.finish_reason: str | None = None
        self.prompt_tokens: int | None = None
        self.output_tokens: int | None = None
        self._redact = redact

    def read(self, data: str) -> str:
        """The text that one event's data adds to the answer (``""`` when none)."""
        if not data.strip():
            return ""
        if data.strip() == _DONE:
            self.done = True
            return ""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise ModelMalformedResponse(
                self._redact(f"{self.model_id}: a stream event is not JSON: {data[:80]!r}"),
                model_id=self.model_id,
            ) from exc
        if not isinstance(chunk, dict):
            raise ModelMalformedResponse(
                f"{self.model_id}: a stream event is not a JSON object", model_id=self.model_id
            )
        if chunk.get("error") is not None or chunk.get("object") == "error":
            raise openai_error(None, chunk, model_id=self.model_id, redact=self._redact)
        usage = _mapping(chunk.get("usage"))  # cumulative when a server sends it every chunk
        self.prompt_tokens = _count(usage, "prompt_tokens", self.prompt_tokens)
        self.output_tokens = _count(usage, "completion_tokens", self.output_tokens)
        choice = _first_choice(chunk)
        finish = choice.get("finish_reason")
        if isinstance(finish, str) and finish:
            self.finish_reason = finish
        # Only ``content`` is the answer: ``reasoning_content`` (thinking models on vLLM) and
        # tool calls are never shown to a customer.
        content = _mapping(choice.get("delta")).get("content")
        return content if isinstance(content, str) else ""


def openai_error(
    status: int | None,
    body: bytes | str | Mapping[str, Any],
    *,
    model_id: str,
    retry_after: float | None = None,
    redact: Callable[[str], str] = str,
) -> ModelError:
    """The ``ModelError`` for an HTTP error (``status``) or an error event in a stream
    (``status`` None: its ``code`` or ``type`` stands in for one).

    ``body`` may be ``{"error": {"message", "type", "code"}}`` (OpenAI, vLLM, LiteLLM),
    ``{"error": "text"}`` (Ollama), ``{"object": "error", "message": ...}`` (older vLLM),
    ``{"detail": ...}`` or plain text.
    """
    message, error_type, code = _describe(body)
    where = "error event" if status is None else f"HTTP {status}"
    if status is None:
        status = _status_of(error_type, code)
    hints = f"{message} {error_type} {code}".lower()
    kind: type[ModelError]
    if status == 429:
        kind = ModelThrottled
    elif status in (401, 403):
        kind = ModelAuthError
    elif status == 408:
        kind = ModelTimeout
    elif status in (400, 413, 422) and any(marker in hints for marker in _CONTEXT_MARKERS):
        kind = ContextTooLong
    elif status < 500:
        kind = ModelInvalidRequest  # 404: no such model (vLLM, Ollama); 3xx: a wrong base URL
    else:
        kind = ModelOverloaded
    text = " ".join(message.split())[:MAX_ERROR_TEXT] or "(no message)"
    return kind(
        redact(f"{model_id}: {where}: {text}"), model_id=model_id, retry_after_s=retry_after
    )


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` (OpenAI) or ``Retry-After`` (seconds or an HTTP
    date); None when neither is given or readable."""
    millis = _finite(headers.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000)
    value = headers.get("retry-after")
    seconds = _finite(value)
    if seconds is not None:
        return max(0.0, seconds)
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _describe(body: bytes | str | Mapping[str, Any]) -> tuple[str, str, str]:
    """Message, type and code of an error body in any of the forms ``openai_error`` reads."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return body, "", ""
        if not isinstance(parsed, dict):
            return body, "", ""
        body = parsed
    error = body.get("error")
    if isinstance(error, str):
        return error, "", ""
    fields = error if isinstance(error, Mapping) else body
    message = fields.get("message", fields.get("detail", ""))
    return (
        message if isinstance(message, str) else json.dumps(message, ensure_ascii=False),
        str(fields.get("type") or ""),
        str(fields.get("code") or ""),
    )


def _status_of(error_type: str, code: str) -> int:
    """The HTTP status an error event stands for: its numeric code, else its type."""
    if code.isdigit() and 100 <= int(code) < 600:
        return int(code)
    name = error_type.lower()
    return next((status for word, status in _TYPE_STATUS if word in name), 500)


def _stop_reason(finish_reason: object) -> str:
    if not isinstance(finish_reason, str) or not finish_reason:
        return "end_turn"  # [DONE] without a finish reason: the answer ended normally
    return _STOP_REASONS.get(finish_reason, finish_reason)


def _first_choice(chunk: object) -> Mapping[str, Any]:
    choices = _mapping(chunk).get("choices")
    return _mapping(choices[0]) if isinstance(choices, list) and choices else {}


def _count(usage: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = usage.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _finite(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _mapping(value: object) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a missing field reads as absent)."""
    return value if isinstance(value, Mapping) else {}
