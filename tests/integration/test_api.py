"""The HTTP API in process: search, product lookup, the error envelope, ids, limits, metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.settings import Settings
from mangaassist.store.migrations import MIGRATIONS
from mangaassist.store.sql import SqlStore
from tests.samples import FRIEREN, SLIME


async def _seed(url: str, records: list[SeriesRecord]) -> None:
    store = SqlStore(url)
    await store.migrate()
    await store.upsert_series(records)
    await store.close()


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    await _seed(url, [FRIEREN, SLIME])
    app = create_app(Settings(store_url=url, max_body_bytes=2048))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as test_client:
            test_client.app = app  # type: ignore[attr-defined]
            yield test_client


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_readyz_reports_each_backend(client: httpx.AsyncClient) -> None:
    body = (await client.get("/readyz")).json()
    assert body["status"] == "ready"
    assert body["backends"]["store"]["backend"] == "sqlite"
    newest = MIGRATIONS[-1].version
    assert body["backends"]["store"]["detail"] == {"schemaVersion": newest, "series": 2}
    assert body["backends"]["search"]["detail"]["series"] == 2


async def test_search_japanese_partial_title(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/search", json={"query": "ﾌﾘｰﾚﾝ"})
    assert response.status_code == 200
    body = response.json()
    assert body["results"][0]["titleJa"] == "葬送のフリーレン"
    assert body["total"] == 1
    product = body["results"][0]
    assert product["id"] == FRIEREN.id
    assert product["inStock"] is True
    assert product["priceJpy"] == 594
    assert set(product) >= {"title", "author", "authorJa", "genre", "volumes", "isbn", "rating"}


async def test_search_filters_and_limit(client: httpx.AsyncClient) -> None:
    body = (await client.post("/v1/search", json={"query": "転スラ", "inStock": True})).json()
    assert body["results"] == []
    body = (
        await client.post("/v1/search", json={"query": "転スラ", "genre": "isekai", "limit": 1})
    ).json()
    assert [p["id"] for p in body["results"]] == [SLIME.id]
    assert body["results"][0]["inStock"] is False


async def test_search_reports_typo_corrections(client: httpx.AsyncClient) -> None:
    body = (await client.post("/v1/search", json={"query": "freiren"})).json()
    assert body["corrections"] == {"freiren": "frieren"}
    assert body["results"][0]["id"] == FRIEREN.id


async def test_get_product(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/catalog/{SLIME.id}")
    assert response.status_code == 200
    assert response.json()["titleJa"] == "転生したらスライムだった件"


async def test_unknown_product_is_404_with_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/catalog/MNG-ZZZZZZZZ", headers={"Accept-Language": "ja"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "PRODUCT_NOT_FOUND"
    assert error["message"] == "ID MNG-ZZZZZZZZ の商品は見つかりませんでした。"


async def test_malformed_product_id_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/catalog/not-an-id")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "mangaId"


async def test_malformed_json_is_400_with_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/search", content=b'{"query": "x",', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error"]["code"] == "MALFORMED_JSON"
    assert body["requestId"] == response.headers["x-request-id"]


async def test_schema_errors_are_422_in_the_request_language(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/search", json={"query": "   ", "limit": 0, "colour": "red"})
    assert response.status_code == 422
    details = {d["field"]: d for d in response.json()["error"]["details"]}
    assert set(details) == {"query", "limit", "colour"}
    assert details["colour"]["type"] == "extra_forbidden"

    japanese = await client.post("/v1/search", json={"query": "鬼滅", "limit": 0})
    error = japanese.json()["error"]
    assert error["message"] == "リクエストの内容に誤りがあります。詳細をご確認ください。"
    assert error["details"][0]["message"] == "1以上の値を指定してください。"


async def test_invalid_genre_lists_the_choices(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/search", json={"query": "x", "genre": "romcom"})
    assert response.status_code == 422
    assert "isekai" in response.json()["error"]["details"][0]["message"]


async def test_body_over_limit_is_413_by_content_length(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/search", json={"query": "あ" * 1000})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "x-request-id" in response.headers


async def test_body_over_limit_is_413_when_streamed_without_length(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "'
        yield b"a" * 4096
        yield b'"}'

    response = await client.post(
        "/v1/search", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = await client.get("/v1/search")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


async def test_request_id_is_generated_or_echoed(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/healthz")).headers["x-request-id"]
    assert len(generated) == 32
    echoed = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert echoed.headers["x-request-id"] == "abc-123"
    unsafe = await client.get("/healthz", headers={"X-Request-Id": "bad id\twith space"})
    assert unsafe.headers["x-request-id"] != "bad id\twith space"


async def test_metrics_count_requests_per_route_template(client: httpx.AsyncClient) -> None:
    (await client.get(f"/v1/catalog/{SLIME.id}"))
    (await client.get("/v1/catalog/MNG-ZZZZZZZZ"))
    text = (await client.get("/metrics")).text
    counter = "mangaassist_http_requests_total"
    assert f'{counter}{{method="GET",route="/v1/catalog/{{mangaId}}",status="200"}} 1.0' in text
    assert 'route="/v1/catalog/{mangaId}",status="404"} 1.0' in text
    assert "mangaassist_http_request_duration_seconds_bucket" in text


async def test_unexpected_errors_become_a_500_envelope(client: httpx.AsyncClient) -> None:
    container = client.app.state.container  # type: ignore[attr-defined]

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    container.catalog.search = broken
    response = await client.post("/v1/search", json={"query": "x"})
    assert response.status_code == 500
    body = response.json()
    assert body["error"]["code"] == "INTERNAL_ERROR"
    assert "boom" not in response.text
    assert body["requestId"] == response.headers["x-request-id"]
