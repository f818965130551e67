"""POST /v1/manga/batch and GET /v1/manga/status/{requestId}, in process, with the embedded
worker running the jobs as `mangaassist serve` does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.catalog.loader import BUILTIN_CATALOG, parse_catalog
from mangaassist.queues.worker import job_body
from mangaassist.settings import Settings

FRIEREN = "MNG-L53JXTJI"
pytestmark = pytest.mark.timeout(60)


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(store_url=f"sqlite:///{tmp_path / 'batch.db'}", **overrides)


async def _client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        await container.catalog.upsert(parse_catalog(BUILTIN_CATALOG).records)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
def container(tmp_path: Path) -> Container:
    return build(_settings(tmp_path, callback_allowed_hosts=["127.0.0.1:9"]))


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(container):
        yield c


async def wait_for_final(client: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(f"/v1/manga/status/{request_id}")
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{request_id} never finished: {body}")


async def test_a_batch_is_accepted_and_each_item_completes_with_result_usage_and_cost(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/manga/batch",
        json={
            "items": [
                {"manga_id": FRIEREN, "analysis_type": "genre_classification"},
                {
                    "manga_id": FRIEREN,
                    "analysis_type": "content_summary",
                    "additional_context": "短めに",
                },
            ],
            "priority": "high",
        },
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["itemCount"] == 2
    assert len(set(accepted["requestIds"])) == 2

    statuses = [await wait_for_final(client, rid) for rid in accepted["requestIds"]]

    for status, kind in zip(statuses, ["genre_classification", "content_summary"], strict=True):
        assert status["status"] == "completed", status
        assert status["mangaId"] == FRIEREN
        assert status["analysisType"] == kind
        assert status["attempts"] == 1
        assert status["result"]
        assert status["resultFormat"] in ("json", "text")
        assert status["usage"]["inputTokens"] > 0
        assert status["usage"]["outputTokens"] > 0
        assert status["modelId"] == "offline"
        assert status["costUsd"] == 0.0
        assert status["error"] is None
        assert status["callback"] is None
        assert status["finishedAt"] >= status["startedAt"] >= status["createdAt"]


async def test_a_series_missing_from_the_catalog_fails_with_a_reason(
    client: httpx.AsyncClient, container: Container
) -> None:
    response = await client.post(
        "/v1/manga/batch",
        json={"items": [{"manga_id": "MNG-ZZZZZZZZ", "analysis_type": "reading_level"}]},
    )
    [request_id] = response.json()["requestIds"]

    status = await wait_for_final(client, request_id)

    assert status["status"] == "failed"
    assert status["error"]["code"] == "UNKNOWN_SERIES"
    assert "MNG-ZZZZZZZZ" in status["error"]["message"]
    assert status["result"] is None
    [dead] = await container.queues.receive("manga-fm-dlq", max_messages=1)
    assert request_id in dead.body
    assert "not in the catalog" in dead.attributes["dlq.reason"]


def _item(**overrides: Any) -> dict[str, Any]:
    return {"manga_id": FRIEREN, "analysis_type": "genre_classification", **overrides}


@pytest.mark.parametrize(
    ("body", "field", "error_type"),
    [
        ({"items": []}, "items", "too_short"),
        ({"items": [_item()] * 101}, "items", "too_long"),
        ({}, "items", "missing"),
        ({"items": [_item(manga_id="MNG-abc")]}, "items.0.manga_id", "string_pattern_mismatch"),
        ({"items": [_item(analysis_type="plot")]}, "items.0.analysis_type", "literal_error"),
        (
            {"items": [_item(additional_context="あ" * 2001)]},
            "items.0.additional_context",
            "string_too_long",
        ),
        ({"items": [_item(colour="red")]}, "items.0.colour", "extra_forbidden"),
        ({"items": [_item()], "priority": "urgent"}, "priority", "literal_error"),
        ({"items": [_item()], "notification": {"email": "nope"}}, "notification.email",
         "string_pattern_mismatch"),
        ({"items": [_item()], "sessionId": "x"}, "sessionId", "extra_forbidden"),
    ],
)  # fmt: skip
async def test_each_schema_rule_is_a_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str, error_type: str
) -> None:
    response = await client.post("/v1/manga/batch", json=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert [(d["field"], d["type"]) for d in error["details"]] == [(field, error_type)]


async def test_validation_errors_speak_japanese_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/manga/batch",
        json={"items": [_item(manga_id="123")]},
        headers={"Accept-Language": "ja"},
    )
    error = response.json()["error"]
    assert response.status_code == 422
    assert error["message"] == "リクエストの内容に誤りがあります。詳細をご確認ください。"
    assert error["details"][0]["message"] == "形式が正しくありません。"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://partner.example.com/hook", "CALLBACK_URL_NOT_HTTPS"),
        ("ftp://partner.example.com/hook", "CALLBACK_URL_NOT_HTTPS"),
        ("https://user:pw@partner.example.com/hook", "CALLBACK_URL_INVALID"),
        ("https://127.0.0.1/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://localhost/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://10.1.2.3/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://169.254.169.254/latest/meta-data", "CALLBACK_URL_FORBIDDEN"),
        ("https://[::1]/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://[::ffff:127.0.0.1]/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://[fe80::1]/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://[fd12:3456::1]/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://[ff02::1]/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://0.0.0.0/hook", "CALLBACK_URL_FORBIDDEN"),
        ("https://2130706433/hook", "CALLBACK_URL_FORBIDDEN"),  # 127.0.0.1 as one number
        ("http://127.0.0.1:8080/hook", "CALLBACK_URL_NOT_HTTPS"),  # allow list: port 9 only
        ("https://no-such-host.invalid/hook", "CALLBACK_URL_UNRESOLVABLE"),
    ],
)
async def test_callback_urls_to_private_addresses_are_refused(
    client: httpx.AsyncClient, url: str, code: str
) -> None:
    response = await client.post("/v1/manga/batch", json={"items": [_item()], "callback_url": url})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_an_allow_listed_loopback_callback_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/manga/batch",
        json={"items": [_item()], "callback_url": "http://127.0.0.1:9/hook"},
    )

    assert response.status_code == 202
    [request_id] = response.json()["requestIds"]
    status = await wait_for_final(client, request_id)
    assert status["callback"]["status"] in ("enqueued", "failed", "delivered")


async def test_an_unknown_request_id_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/v1/manga/status/0123456789abcdef", headers={"Accept-Language": "ja"}
    )

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "BATCH_REQUEST_NOT_FOUND"
    assert "0123456789abcdef" in error["message"]
    assert "見つかりませんでした" in error["message"]


async def test_a_queue_over_its_backlog_limit_answers_503_with_retry_after(
    tmp_path: Path,
) -> None:
    container = build(
        _settings(
            tmp_path,
            worker_embedded=False,
            batch_max_backlog={"manga-fm-normal": 2},
            batch_retry_after_s=17,
        )
    )
    async for client in _client(container):
        for i in range(3):  # a backlog of 3 on a queue that takes 2
            await container.queues.send("manga-fm-normal", job_body("noop", f"n{i}", {}))

        refused = await client.post("/v1/manga/batch", json={"items": [_item()]})
        elsewhere = await client.post(
            "/v1/manga/batch", json={"items": [_item()], "priority": "high"}
        )

        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "17"
        assert refused.json()["error"]["code"] == "BATCH_BACKLOG_FULL"
        assert "17" in refused.json()["error"]["message"]
        assert elsewhere.status_code == 202  # the high-priority queue is not backed up


async def test_the_largest_valid_batch_fits_the_body_limit(client: httpx.AsyncClient) -> None:
    # 100 items with 2,000-character contexts of 𠮷, JSON-escaped as surrogate pairs: 2.4 MB
    context = "𠮷" * 2000
    items = [
        {"manga_id": FRIEREN, "analysis_type": "reading_level", "additional_context": context}
        for _ in range(100)
    ]
    body = json.dumps({"items": items}).encode()  # ensure_ascii: 12 bytes per 𠮷
    assert len(body) > 2_000_000
    accepted = await client.post(
        "/v1/manga/batch", content=body, headers={"Content-Type": "application/json"}
    )
    too_big = await client.post(
        "/v1/chat",
        content=json.dumps({"message": "x" * 70_000}),
        headers={"Content-Type": "application/json"},
    )
    assert accepted.status_code == 202
    assert too_big.status_code == 413
    assert too_big.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
