"""What every AWS adapter shares: its URL form, and one lazily opened aiobotocore client.

``<service>://REGION/...`` is the real service with the default credential chain;
``<service>+http(s)://[KEY:SECRET@]HOST:PORT/...?region=REGION`` is a compatible server
(moto, ElasticMQ), region ``us-east-1`` by default. Credentials given in the URL mean a client
of a local server never looks for real ones. aiobotocore is imported only when a client opens,
so MangaAssist imports without it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["DEFAULT_REGION", "AwsEndpoint", "AwsLocation", "LazyClient", "aws_client"]

DEFAULT_REGION = "us-east-1"
C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class AwsLocation:
    """Where an AWS service is, from a ``<service>[+http(s)]://`` URL."""

    region: str
    endpoint_url: str | None
    host: str
    path: str
    query: dict[str, str]
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str, scheme: str, service: str) -> AwsLocation:
        """Parse ``url`` of ``scheme`` (``sqs``, ``eventbridge``); ``ValueError`` naming the
        ``service`` for another scheme. The caller checks what its service needs (a region, a
        host, a path)."""
        parts = urlsplit(url)
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        host = parts.hostname or ""
        if parts.scheme == scheme:
            region, endpoint_url = query.get("region", host), None
        elif parts.scheme in (f"{scheme}+http", f"{scheme}+https"):
            region = query.get("region", DEFAULT_REGION)
            bracketed = f"[{host}]" if ":" in host else host  # IPv6
            netloc = f"{bracketed}:{parts.port}" if parts.port else bracketed
            endpoint_url = f"{parts.scheme.removeprefix(scheme + '+')}://{netloc}"
        else:
            raise ValueError(f"not an {service} URL: {parts.scheme}://…")
        return cls(
            region=region,
            endpoint_url=endpoint_url,
            host=host,
            path=unquote(parts.path.removeprefix("/")),
            query=query,
            access_key=unquote(parts.username) if parts.username else None,
            secret_key=unquote(parts.password) if parts.password else None,
        )


class AwsEndpoint(Protocol):
    """What a client needs of an adapter's endpoint (``SqsEndpoint``, ``EventBridgeEndpoint``)."""

    @property
    def region(self) -> str: ...
    @property
    def endpoint_url(self) -> str | None: ...
    @property
    def access_key(self) -> str | None: ...
    @property
    def secret_key(self) -> str | None: ...


def aws_client(
    service: str,
    endpoint: AwsEndpoint,
    *,
    who: str,
    connect_timeout_s: float,
    read_timeout_s: float,
    retries: dict[str, Any],
    max_pool_connections: int | None = None,
) -> contextlib.AbstractAsyncContextManager[Any]:
    """An aiobotocore client context for ``service`` at ``endpoint`` (``who`` names the
    adapter in the install hint)."""
    try:
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{who} needs aiobotocore: pip install 'aiobotocore>=2.13'") from exc
    options: dict[str, Any] = {
        "connect_timeout": connect_timeout_s,
        "read_timeout": read_timeout_s,
        "retries": retries,
    }
    if max_pool_connections is not None:
        options["max_pool_connections"] = max_pool_connections
    return get_session().create_client(  # type: ignore[call-overload, no-any-return]
        service,
        region_name=endpoint.region,
        endpoint_url=endpoint.endpoint_url,
        aws_access_key_id=endpoint.access_key,
        aws_secret_access_key=endpoint.secret_key,
        config=AioConfig(**options),
    )


class LazyClient(Generic[C]):
    """One client, opened by the first call that needs it and closed by ``close()`` (a later
    call opens a new one)."""

    def __init__(self, opener: Callable[[], contextlib.AbstractAsyncContextManager[C]]) -> None:
        self._opener = opener
        self._client: C | None = None
        self._stack = contextlib.AsyncExitStack()
        self._opening = asyncio.Lock()

    async def get(self) -> C:
        """The open client."""
        if self._client is None:
            async with self._opening:
                if self._client is None:
                    self._client = await self._stack.enter_async_context(self._opener())
        return self._client

    async def close(self) -> None:
        """Close the client."""
        async with self._opening:
            await self._stack.aclose()
            self._client = None
