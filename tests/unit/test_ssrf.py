"""The SSRF guard: which addresses a callback may reach, and DNS answers checked at delivery."""

from __future__ import annotations

import pytest

from mangaassist.webhooks.ssrf import (
    ForbiddenCallbackError,
    forbidden_reason,
    parse_callback_url,
    resolve_target,
)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0.0.0.0", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("240.0.0.1", "private"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fd00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_non_public_addresses_are_forbidden(address: str, reason: str) -> None:
    assert forbidden_reason(address) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "203.0.114.1", "2606:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(address) is None


@pytest.mark.parametrize(
    ("allow_list", "url", "allowed"),
    [
        (["127.0.0.1"], "http://127.0.0.1:8080/hook", True),
        (["127.0.0.1:8080"], "http://127.0.0.1:8080/hook", True),
        (["127.0.0.1:8081"], "https://127.0.0.1:8080/hook", False),
        (["[::1]:8080"], "http://[::1]:8080/hook", True),
        (["::1"], "https://[::1]/hook", True),
        (["Hooks.Internal"], "https://hooks.internal./x", True),
        ([], "https://hooks.internal/x", False),
    ],
)
def test_the_allow_list_takes_hosts_or_host_and_port(
    allow_list: list[str], url: str, allowed: bool
) -> None:
    assert parse_callback_url(url, allow_list).allow_listed is allowed


def test_plain_http_needs_the_allow_list() -> None:
    with pytest.raises(ForbiddenCallbackError) as refused:
        parse_callback_url("http://partner.example.com/hook", [])
    assert refused.value.code == "CALLBACK_URL_NOT_HTTPS"


async def test_every_address_of_a_name_must_be_public() -> None:
    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]

    target = parse_callback_url("https://partner.example.com/hook", [])
    with pytest.raises(ForbiddenCallbackError) as refused:
        await resolve_target(target, mixed)
    assert refused.value.code == "CALLBACK_URL_FORBIDDEN"
    assert "private" in refused.value.reason


async def test_a_name_that_rebinds_to_loopback_is_caught_when_resolved_again() -> None:
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    target = parse_callback_url("https://rebind.example.com/hook", [])
    assert await resolve_target(target, rebinding) == ["93.184.215.14"]  # at request time
    with pytest.raises(ForbiddenCallbackError):
        await resolve_target(target, rebinding)  # at delivery


async def test_an_allow_listed_host_may_resolve_to_loopback() -> None:
    async def local(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    target = parse_callback_url("http://hooks.test:8080/x", ["hooks.test:8080"])
    assert await resolve_target(target, local) == ["127.0.0.1"]
