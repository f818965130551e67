"""The API key admin API on a real app and a real SQLite store: guard, create, list, revoke."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.access.keyring import authenticate
from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.settings import Settings

pytestmark = pytest.mark.timeout(60)

TOKEN = "admin-test-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PEPPER = b"admin-test-pepper"


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'store.db'}",
        "admin_token": TOKEN,
        "api_key_pepper": PEPPER.decode(),
        "events_analytics_path": str(tmp_path / "analytics.jsonl"),
        **overrides,
    }
    return Settings(**values)


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    container = build(settings)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client, container


async def test_without_the_admin_token_nothing_is_answered(tmp_path: Path) -> None:
    async with _serving(_settings(tmp_path)) as (client, container):
        anonymous = await client.get("/admin/keys")
        wrong = await client.post(
            "/admin/keys", json={"name": "a"}, headers={"Authorization": "Bearer nope"}
        )
        revoke = await client.delete("/admin/keys/abcd2345")

        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["code"] == "ADMIN_UNAUTHORIZED"
        assert wrong.status_code == 401
        assert revoke.status_code == 401
        assert await container.keys.list() == []


async def test_the_admin_api_is_off_without_a_configured_token(tmp_path: Path) -> None:
    async with _serving(_settings(tmp_path, admin_token=None)) as (client, _):
        answer = await client.post("/admin/keys", json={"name": "a"}, headers=ADMIN)

        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "ADMIN_DISABLED"


async def test_create_list_revoke(tmp_path: Path) -> None:
    async with _serving(_settings(tmp_path)) as (client, container):
        # Given a key created through the API
        created = await client.post("/admin/keys", json={"name": " 渋谷店 "}, headers=ADMIN)
        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"
        body = created.json()
        assert set(body) == {"prefix", "apiKey", "name", "plan", "createdAt"}
        assert (body["name"], body["plan"]) == ("渋谷店", "standard")
        api_key = body["apiKey"]

        # Then it authenticates, with the configured pepper only
        record = await authenticate(container.keys, api_key, pepper=PEPPER)
        assert record is not None
        assert record.prefix == body["prefix"]
        assert await authenticate(container.keys, api_key) is None

        # And listings show it without its secret or hash
        listed = await client.get("/admin/keys", headers=ADMIN)
        assert listed.status_code == 200
        assert listed.json() == [
            {
                "prefix": body["prefix"],
                "name": "渋谷店",
                "plan": "standard",
                "createdAt": body["createdAt"],
                "revokedAt": None,
                "lastUsedAt": None,
                "active": True,
            }
        ]
        assert api_key.rsplit("_", 1)[1] not in listed.text
        assert "sha256" not in listed.text

        # When it is revoked, twice
        revoked = await client.delete(f"/admin/keys/{body['prefix']}", headers=ADMIN)
        again = await client.delete(f"/admin/keys/{body['prefix']}", headers=ADMIN)

        # Then it stops authenticating and the first revocation time stays
        assert revoked.status_code == 200
        assert revoked.json()["active"] is False
        assert revoked.json()["revokedAt"] is not None
        assert "apiKey" not in revoked.json()
        assert again.status_code == 200
        assert again.json() == revoked.json()
        assert await authenticate(container.keys, api_key, pepper=PEPPER) is None
        assert (await client.get("/admin/keys", headers=ADMIN)).json() == [revoked.json()]


async def test_unknown_keys_and_plans_are_refused_in_the_callers_language(
    tmp_path: Path,
) -> None:
    async with _serving(_settings(tmp_path)) as (client, container):
        unknown = await client.delete("/admin/keys/zzzzzzzz", headers=ADMIN)
        plan = await client.post(
            "/admin/keys", json={"name": "a", "plan": "platinum"}, headers=ADMIN
        )
        plan_ja = await client.post(
            "/admin/keys",
            json={"name": "a", "plan": "platinum"},
            headers={**ADMIN, "Accept-Language": "ja"},
        )
        unknown_ja = await client.delete(
            "/admin/keys/zzzzzzzz", headers={**ADMIN, "Accept-Language": "ja"}
        )

        assert unknown.status_code == 404
        assert unknown.json()["error"]["code"] == "API_KEY_NOT_FOUND"
        assert "zzzzzzzz" in unknown.json()["error"]["message"]
        assert "APIキー" in unknown_ja.json()["error"]["message"]
        assert plan.status_code == 422
        assert plan.json()["error"]["code"] == "PLAN_UNKNOWN"
        assert "platinum" in plan.json()["error"]["message"]
        assert "standard" in plan.json()["error"]["message"]
        assert plan_ja.status_code == 422
        assert "利用プラン" in plan_ja.json()["error"]["message"]
        assert "standard" in plan_ja.json()["error"]["message"]
        assert await container.keys.list() == []


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
async def test_names_must_be_1_to_100_characters(tmp_path: Path, name: str) -> None:
    async with _serving(_settings(tmp_path)) as (client, _):
        answer = await client.post("/admin/keys", json={"name": name}, headers=ADMIN)
        longest = await client.post("/admin/keys", json={"name": "x" * 100}, headers=ADMIN)

        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "VALIDATION_ERROR"
        assert longest.status_code == 201
