"""Access control through the app: keys, tokens, plans, anonymous limits, CORS and headers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import httpx
import jwt
import pytest
from fastapi import FastAPI

from mangaassist.access.limiter import RateLimiter
from mangaassist.access.plans import ROUTE_THROTTLES
from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.settings import Settings

JWT_SECRET = "test-hs256-secret-of-enough-length-32b"
QUERY = {"message": "おすすめの異世界マンガは？"}
PARTNER_QUERY = {"query": "Is Frieren vol. 12 in stock?"}


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'access.db'}",
        "access_control": True,
        "admin_token": "admin-token",
        "access_plans": {
            "standard": {"rate_per_s": 100, "burst": 200, "quota": 10_000},
            "burst5": {"rate_per_s": 1, "burst": 5, "quota": None},
            "quota3": {"rate_per_s": 50, "burst": 50, "quota": 3},
        },
        "worker_embedded": False,
    }
    values.update(overrides)
    return Settings(**values)


def _client(app: FastAPI, client_ip: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://shop.test")


@asynccontextmanager
async def _serve(
    settings: Settings, client_ip: str = "203.0.113.7"
) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    container = build(settings)
    app = create_app(container=container)
    async with app.router.lifespan_context(app), _client(app, client_ip) as client:
        yield client, container


async def _chat_from(client: httpx.AsyncClient, address: str) -> int:
    """POST /v1/chat as a visitor at ``address`` (same app, another client address)."""
    app = cast(httpx.ASGITransport, client._transport).app
    async with _client(cast(FastAPI, app), address) as visitor:
        return (await visitor.post("/v1/chat", json=QUERY)).status_code


async def _key(container: Container, plan: str = "standard") -> str:
    _, issued = await container.keys.create("partner", plan)
    return issued.api_key


def _token(**claims: Any) -> str:
    payload = {"sub": "user-1", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(payload, JWT_SECRET, algorithm="HS256")


async def test_off_by_default_everyone_chats_without_limits(tmp_path: Path) -> None:
    settings = _settings(tmp_path, access_control=False)
    async with _serve(settings) as (client, _):
        answer = await client.post("/v1/manga/query", json=PARTNER_QUERY)
        me = await client.get("/v1/me")
    assert answer.status_code == 200
    assert "X-RateLimit-Limit" not in answer.headers
    assert me.json()["kind"] == "anonymous"


async def test_partner_routes_need_credentials_with_a_localized_401(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path)) as (client, _):
        refused = await client.post(
            "/v1/manga/query", json=PARTNER_QUERY, headers={"Accept-Language": "ja"}
        )
        page = await client.get("/")
        health = await client.get("/healthz")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHENTICATED"
    assert "X-Api-Key" in refused.json()["error"]["message"]
    assert "認証" in refused.json()["error"]["message"]
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert (page.status_code, health.status_code) == (200, 200)  # the page stays public


async def test_a_key_is_admitted_and_routes_see_who_it_is(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path)) as (client, container):
        key = await _key(container)
        answer = await client.post(
            "/v1/manga/query", json=PARTNER_QUERY, headers={"X-Api-Key": key}
        )
        me = (await client.get("/v1/me", headers={"X-Api-Key": key})).json()
        record = await container.keys.lookup_by_prefix(me["claims"]["keyPrefix"])
    assert answer.status_code == 200
    assert answer.headers["X-RateLimit-Limit"] == "10000"
    assert answer.headers["X-RateLimit-Remaining"] == "9999"
    assert me["kind"] == "api_key"
    assert me["plan"] == "standard"
    assert me["subject"] == f"key:{me['claims']['keyPrefix']}"
    assert record is not None
    assert record.last_used_at is not None


@pytest.mark.parametrize(
    ("mangle", "status", "code"),
    [
        (lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), 401, "API_KEY_INVALID"),
        (lambda key: key.replace("mk_live_", "mk_test_"), 401, "API_KEY_INVALID"),
        (lambda key: "mk_live_aaaaaaaa_" + key.rsplit("_", 1)[1], 401, "API_KEY_INVALID"),
        (lambda key: key + "x", 401, "API_KEY_INVALID"),
        (lambda key: f"  {key}\t", 200, None),  # pasted with whitespace: still the key
    ],
)
async def test_wrong_keys_are_refused_alike(
    tmp_path: Path, mangle: Any, status: int, code: str | None
) -> None:
    async with _serve(_settings(tmp_path)) as (client, container):
        key = await _key(container)
        response = await client.post(
            "/v1/manga/query", json=PARTNER_QUERY, headers={"X-Api-Key": mangle(key)}
        )
    assert response.status_code == status
    if code is not None:
        assert response.json()["error"]["code"] == code


async def test_a_revoked_key_gets_403_at_once(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path)) as (client, container):
        key = await _key(container)
        before = await client.post(
            "/v1/manga/query", json=PARTNER_QUERY, headers={"X-Api-Key": key}
        )
        await container.keys.revoke(key.split("_")[2])
        after = await client.post("/v1/manga/query", json=PARTNER_QUERY, headers={"X-Api-Key": key})
    assert before.status_code == 200
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "API_KEY_REVOKED"


async def test_with_a_burst_of_n_n_requests_pass_and_the_next_gets_429(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path)) as (client, container):
        key = await _key(container, plan="burst5")
        statuses = []
        for _ in range(6):
            response = await client.get("/v1/me", headers={"X-Api-Key": key})
            statuses.append(response.status_code)
        other = await client.get("/v1/me", headers={"X-Api-Key": await _key(container, "burst5")})
    assert statuses == [200] * 5 + [429]
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(response.headers["Retry-After"]) <= 5
    assert response.headers["X-RateLimit-Limit"] == "5"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert other.status_code == 200  # limits are per key


async def test_a_burst_refills_after_its_window(tmp_path: Path) -> None:
    plans = {
        "standard": {"rate_per_s": 100, "burst": 200},
        "fast": {"rate_per_s": 4, "burst": 4, "quota": None},
    }
    async with _serve(_settings(tmp_path, access_plans=plans)) as (client, container):
        key = await _key(container, plan="fast")

        async def burst() -> list[int]:
            return [
                (await client.get("/v1/me", headers={"X-Api-Key": key})).status_code
                for _ in range(5)
            ]

        first = await burst()
        await asyncio.sleep(1.1)  # the 1 s window of 4/s moves past the first burst
        second = await burst()
    assert first == [200] * 4 + [429]
    assert second == [200] * 4 + [429]


async def test_quota_exhaustion_says_so_and_resets_with_the_utc_day(tmp_path: Path) -> None:
    now = [datetime(2026, 11, 22, 23, 59, 0, tzinfo=UTC).timestamp()]
    async with _serve(_settings(tmp_path)) as (client, container):
        gate = container.access.gate
        assert gate is not None
        gate.limiter = RateLimiter(route_throttles=ROUTE_THROTTLES, clock=lambda: now[0])
        key = await _key(container, plan="quota3")
        used = [
            (await client.get("/v1/me", headers={"X-Api-Key": key})).status_code for _ in range(4)
        ]
        refused = await client.get("/v1/me", headers={"X-Api-Key": key, "Accept-Language": "ja"})
        now[0] += 61  # 00:00:01 UTC: a new day
        next_day = await client.get("/v1/me", headers={"X-Api-Key": key})
    assert used == [200, 200, 200, 429]
    assert refused.json()["error"]["code"] == "QUOTA_EXCEEDED"
    assert "上限" in refused.json()["error"]["message"]
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["X-RateLimit-Reset"] == str(int(now[0]) - 1)
    assert next_day.status_code == 200
    assert next_day.headers["X-RateLimit-Remaining"] == "2"


async def test_the_chat_throttle_is_shared_by_all_callers(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, access_route_throttles={"/v1/chat": {"rate_per_s": 3, "burst": 3}}
    )
    async with _serve(settings) as (client, container):
        first, second = await _key(container), await _key(container)
        statuses = [
            (await client.post("/v1/chat", json=QUERY, headers={"X-Api-Key": key})).status_code
            for key in (first, second, first, second)
        ]
        stream = await client.post("/v1/chat/stream", json=QUERY, headers={"X-Api-Key": second})
        other_route = await client.get("/v1/me", headers={"X-Api-Key": first})
    assert statuses == [200, 200, 200, 429]
    assert stream.status_code == 429  # /v1/chat/stream is under the /v1/chat throttle
    assert other_route.status_code == 200


async def test_anonymous_visitors_are_limited_per_ip(tmp_path: Path) -> None:
    settings = _settings(tmp_path, anonymous_ip_plan={"rate_per_s": 1, "burst": 3})
    async with _serve(settings, client_ip="198.51.100.1") as (client, _):
        statuses = [await _chat_from(client, "198.51.100.1") for _ in range(4)]
        partner_route = await client.post("/v1/manga/query", json=PARTNER_QUERY)
        neighbour = await _chat_from(client, "198.51.100.2")
    assert statuses == [200, 200, 200, 429]
    assert partner_route.status_code == 401
    assert neighbour == 200


async def test_ipv6_visitors_are_counted_per_64(tmp_path: Path) -> None:
    settings = _settings(tmp_path, anonymous_ip_plan={"rate_per_s": 1, "burst": 2})
    hosts = ("2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1")
    async with _serve(settings) as (client, _):
        statuses = [await _chat_from(client, host) for host in hosts]
    assert statuses == [200, 200, 429, 200]  # the last is another /64


async def test_anonymous_chat_is_limited_per_session(tmp_path: Path) -> None:
    settings = _settings(tmp_path, anonymous_session_plan={"rate_per_s": 1, "burst": 2})
    async with _serve(settings) as (client, _):
        first = await client.post("/v1/chat", json=QUERY)
        session = first.json()["sessionId"]
        again = [
            (await client.post("/v1/chat", json={**QUERY, "sessionId": session})).status_code
            for _ in range(3)
        ]
        history = await client.get(f"/v1/sessions/{session}/messages")
        fresh = await client.post("/v1/chat", json=QUERY)
    assert first.status_code == 200
    assert again == [200, 200, 429]
    assert history.status_code == 429  # the same session, read through its path
    assert fresh.status_code == 200  # a new conversation is not this session
    assert again[0] == 200


async def test_a_malformed_anonymous_body_still_gets_the_routes_400(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path)) as (client, _):
        response = await client.post(
            "/v1/chat", content=b'{"message": ', headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


async def test_hs256_tokens_are_checked_and_claims_reach_routes(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, jwt_secret=JWT_SECRET, jwt_issuer="https://id.shop.test", jwt_audience="api"
    )
    good = _token(iss="https://id.shop.test", aud="api", scope="manga/read")
    async with _serve(settings) as (client, _):
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {good}"})
        cases = {
            "expired": _token(iss="https://id.shop.test", aud="api", exp=int(time.time()) - 120),
            "issuer": _token(iss="https://evil.test", aud="api"),
            "audience": _token(iss="https://id.shop.test", aud="other"),
            "garbage": "not.a.token",
        }
        refused = {
            name: await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
            for name, token in cases.items()
        }
    assert me.status_code == 200
    body = me.json()
    assert (body["kind"], body["subject"], body["plan"]) == ("token", "user-1", "standard")
    assert body["claims"]["scope"] == "manga/read"
    assert me.headers["X-RateLimit-Limit"] == "10000"
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(cases, 401)
    assert refused["expired"].json()["error"]["code"] == "TOKEN_EXPIRED"
    assert refused["issuer"].json()["error"]["code"] == "TOKEN_INVALID"
    assert 'error="invalid_token"' in refused["garbage"].headers["WWW-Authenticate"]


async def test_tokens_are_refused_when_none_are_configured(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path)) as (client, _):
        response = await client.get("/v1/me", headers={"Authorization": f"Bearer {_token()}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "TOKEN_INVALID"


async def test_cors_allows_listed_origins_even_on_refusals(tmp_path: Path) -> None:
    settings = _settings(tmp_path, cors_allow_origins=["https://partner.example"])
    async with _serve(settings) as (client, _):
        preflight = await client.options(
            "/v1/manga/query",
            headers={
                "Origin": "https://partner.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-api-key, content-type",
            },
        )
        refused = await client.post(
            "/v1/manga/query", json=PARTNER_QUERY, headers={"Origin": "https://partner.example"}
        )
        stranger = await client.post(
            "/v1/manga/query", json=PARTNER_QUERY, headers={"Origin": "https://evil.example"}
        )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    assert "x-api-key" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Origin" not in stranger.headers


async def test_security_headers_on_the_page_and_the_api(tmp_path: Path) -> None:
    async with _serve(_settings(tmp_path, access_control=False, hsts_max_age_s=86400)) as (
        client,
        _,
    ):
        page = await client.get("/")
        script = await client.get("/static/app.js")
        api = await client.post("/v1/chat", json=QUERY)
        docs = await client.get("/docs")
    for response in (page, script, api, docs):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert response.headers["Strict-Transport-Security"] == "max-age=86400; includeSubDomains"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in api.headers["Content-Security-Policy"]
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert api.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in docs.headers  # Swagger UI loads from its CDN


@pytest.mark.parametrize(("fail_open", "status"), [(True, 200), (False, 503)])
async def test_unreachable_limit_storage_follows_the_fail_policy(
    tmp_path: Path, fail_open: bool, status: int
) -> None:
    settings = _settings(
        tmp_path, access_storage_url="redis://127.0.0.1:1/0", access_fail_open=fail_open
    )
    async with _serve(settings) as (client, container):
        key = await _key(container)
        response = await client.get("/v1/me", headers={"X-Api-Key": key})
        metrics = (await client.get("/metrics")).text
    assert response.status_code == status
    assert "mangaassist_access_storage_errors_total 1.0" in metrics
    if not fail_open:
        assert response.json()["error"]["code"] == "ACCESS_UNAVAILABLE"
        assert response.headers["Retry-After"] == "1"
