"""Outbound webhook delivery through the SSRF guard, pinned to the address it vetted.

The host is resolved and every address checked right before connecting; the request then goes
to the vetted IP itself, with the original ``Host`` header and TLS server name (SNI and
certificate check), so a second DNS answer can never send it elsewhere. Redirects are not
followed and proxy variables are ignored (a proxy would connect on our behalf, unchecked).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from mangaassist.webhooks.ssrf import (
    CallbackTarget,
    Resolver,
    parse_callback_url,
    resolve_target,
)

__all__ = ["WebhookClient", "retry_after_s"]


def retry_after_s(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _host_header(target: CallbackTarget) -> str:
    host = target.host
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class WebhookClient:
    """POSTs webhook bodies to checked, public (or allow-listed) addresses only."""

    def __init__(
        self,
        allow_list: Sequence[str],
        *,
        timeout_s: float = 10.0,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._allow_list = tuple(allow_list)
        self._resolver = resolver
        self._client = httpx.AsyncClient(
            timeout=timeout_s, follow_redirects=False, trust_env=False, transport=transport
        )

    def check_url(self, url: str) -> CallbackTarget:
        """The form check of the request (raises ``ForbiddenCallbackError``)."""
        return parse_callback_url(url, self._allow_list)

    async def vet(self, url: str) -> list[str]:
        """Form and address checks together; the addresses a delivery would use."""
        return await resolve_target(self.check_url(url), self._resolver)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """Deliver ``body``; raises ``ForbiddenCallbackError`` for a refused target and
        ``httpx.TransportError`` when the receiver cannot be reached."""
        target = self.check_url(url)
        addresses = await resolve_target(target, self._resolver)
        pinned = httpx.URL(url).copy_with(host=addresses[0])
        extensions = {}
        if target.scheme == "https" and not _is_ip(target.host):
            extensions["sni_hostname"] = target.host
        return await self._client.post(
            pinned,
            content=body,
            headers={
                **headers,
                "host": _host_header(target),
                "content-type": "application/json",
                "user-agent": "MangaAssist-Webhooks/1",
            },
            extensions=extensions,
        )

    async def close(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()
