"""MangaAssist as a newcomer meets it: the served API over real HTTP."""

from __future__ import annotations

import json
import signal
import time

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


def test_health_and_readiness(server: Server) -> None:
    assert httpx.get(f"{server.base_url}/healthz").json()["status"] == "ok"
    ready = httpx.get(f"{server.base_url}/readyz").json()
    assert ready["status"] == "ready"
    assert ready["backends"]["store"]["detail"]["series"] >= 150


@pytest.mark.parametrize(
    ("query", "expected"),
    [("鬼滅", "鬼滅の刃"), ("ﾜﾝﾋﾟｰｽ", "ONE PIECE"), ("frieren", "葬送のフリーレン")],
)
def test_search_over_http(server: Server, query: str, expected: str) -> None:
    response = httpx.post(f"{server.base_url}/v1/search", json={"query": query, "limit": 3})
    assert response.status_code == 200
    assert response.json()["results"][0]["titleJa"] == expected


def test_product_lookup_over_http(server: Server) -> None:
    first = httpx.post(f"{server.base_url}/v1/search", json={"query": "呪術廻戦"}).json()
    product_id = first["results"][0]["id"]
    product = httpx.get(f"{server.base_url}/v1/catalog/{product_id}").json()
    assert product["titleJa"] == "呪術廻戦"
    assert product["authorJa"] == "芥見下々"


def test_logs_are_json_lines_with_the_request_id(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-Id": "e2e-trace-1"})
    assert response.headers["x-request-id"] == "e2e-trace-1"
    access: list[dict[str, object]] = []
    deadline = time.monotonic() + 5  # the access line is written once the response is sent
    while not access and time.monotonic() < deadline:
        lines = server.logs().splitlines()
        records = [json.loads(line) for line in lines if line.startswith("{")]
        access = [r for r in records if r.get("request_id") == "e2e-trace-1"]
        time.sleep(0.05)
    assert access
    assert access[0]["event"] == "request"
    assert access[0]["status"] == 200


def test_metrics_over_http(server: Server) -> None:
    httpx.post(f"{server.base_url}/v1/search", json={"query": "naruto"})
    text = httpx.get(f"{server.base_url}/metrics").text
    assert 'route="/v1/search",status="200"' in text


def test_sigterm_stops_the_server_cleanly(server: Server) -> None:
    # Runs last in this module: the fixture's teardown tolerates an already stopped process.
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why it ended.
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in server.logs()
