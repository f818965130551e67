"""The SSRF guard of outbound webhooks: callbacks go to the public internet only.

A callback URL is refused when its host resolves to an address the shop's own network could
answer on: loopback, private, link-local, multicast, reserved, unspecified, shared (CGNAT) or
otherwise not globally routable, for IPv4 and IPv6, including IPv4 addresses embedded in IPv6
(IPv4-mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``, 6to4, Teredo). Every address a name
resolves to must pass, so one public record cannot smuggle in a private one. Hosts (or
``host:port``) on the allow list skip the address check; only they may use plain ``http``.

The check runs twice: when the request is accepted, and again at delivery on the addresses
actually connected to (``resolve_target``), so a DNS answer that changes in between (DNS
rebinding) is caught.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = [
    "CallbackTarget",
    "ForbiddenCallbackError",
    "Resolver",
    "forbidden_reason",
    "parse_callback_url",
    "resolve_target",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``; tests swap in a fake to play DNS rebinding.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class ForbiddenCallbackError(ValueError):
    """A callback URL that must not be called; ``code`` is the API's stable error code."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    """A parsed callback URL: where to connect, and whether the allow list vouches for it."""

    url: str
    scheme: str
    host: str
    port: int
    allow_listed: bool


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def forbidden_reason(address: str | IPAddress) -> str | None:
    """Why a callback must not go to ``address`` (``"loopback"``, ``"private"``, ...), or None
    for a public unicast address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link-local"
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return forbidden_reason(embedded)
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _allowed(host: str, port: int, allow_list: Sequence[str]) -> bool:
    for entry in allow_list:
        entry = entry.strip().lower()
        if entry.startswith("["):  # [v6] or [v6]:port
            address, _, rest = entry[1:].partition("]")
            entry_host, entry_port = address, rest.removeprefix(":") or None
        elif entry.count(":") == 1:
            entry_host, entry_port = entry.split(":")
        else:
            entry_host, entry_port = entry, None
        if entry_host.rstrip(".") == host and (entry_port is None or entry_port == str(port)):
            return True
    return False


def parse_callback_url(url: str, allow_list: Sequence[str]) -> CallbackTarget:
    """Check the form of a callback URL: ``https`` (``http`` only for allow-listed hosts), a
    host, no credentials. Raises ``ForbiddenCallbackError``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ForbiddenCallbackError("CALLBACK_URL_INVALID", "not a valid URL") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        raise ForbiddenCallbackError("CALLBACK_URL_NOT_HTTPS", "callback URLs must use https")
    if parts.username is not None or parts.password is not None:
        raise ForbiddenCallbackError("CALLBACK_URL_INVALID", "credentials in the URL")
    port = port or _DEFAULT_PORTS[scheme]
    allow_listed = _allowed(host, port, allow_list)
    if scheme == "http" and not allow_listed:
        raise ForbiddenCallbackError("CALLBACK_URL_NOT_HTTPS", "callback URLs must use https")
    return CallbackTarget(url, scheme, host, port, allow_listed)


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_target(target: CallbackTarget, resolver: Resolver | None = None) -> list[str]:
    """The addresses to connect to, each checked (unless allow-listed). Raises
    ``ForbiddenCallbackError``: ``CALLBACK_URL_UNRESOLVABLE`` or ``CALLBACK_URL_FORBIDDEN``."""
    resolve = resolver or system_resolver
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = await resolve(target.host, target.port)
        except OSError as exc:
            raise ForbiddenCallbackError(
                "CALLBACK_URL_UNRESOLVABLE", f"{target.host} does not resolve: {exc}"
            ) from None
    if not addresses:
        raise ForbiddenCallbackError("CALLBACK_URL_UNRESOLVABLE", f"{target.host} has no address")
    if target.allow_listed:
        return addresses
    for address in addresses:
        reason = forbidden_reason(address)
        if reason is not None:
            raise ForbiddenCallbackError(
                "CALLBACK_URL_FORBIDDEN", f"{target.host} resolves to a {reason} address"
            )
    return addresses
