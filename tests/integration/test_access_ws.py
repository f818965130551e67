"""WebSocket handshakes and frames under access control, through a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from mangaassist.api.app import create_app
from mangaassist.bootstrap import Container, build
from mangaassist.settings import Settings
from tests.served import serve_in_loop


@asynccontextmanager
async def _server(tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[str, Container]]:
    values: dict[str, Any] = {
        "store_url": f"sqlite:///{tmp_path / 'ws.db'}",
        "access_control": True,
        "worker_embedded": False,
        "access_plans": {
            "standard": {"rate_per_s": 100, "burst": 200, "quota": 10_000},
            "burst5": {"rate_per_s": 1, "burst": 5},
        },
    }
    values.update(overrides)
    container = build(Settings(**values))
    async with serve_in_loop(create_app(container=container)) as port:
        yield f"ws://127.0.0.1:{port}/v1/ws", container


async def _hello(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await ws.recv())
    assert frame["type"] == "hello"
    return frame


async def _refusal(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url, **kwargs):
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body or b"{}")


async def test_anonymous_visitors_connect_and_mobile_ones_must_ping(tmp_path: Path) -> None:
    async with _server(tmp_path) as (url, _):
        async with connect(url) as desktop:
            hello = await _hello(desktop)
        async with connect(f"{url}?clientType=mobile") as phone:
            mobile_hello = await _hello(phone)
    assert hello["pingRequired"] is False
    assert hello["idleTimeoutMs"] == 60_000
    assert mobile_hello["pingRequired"] is True
    assert mobile_hello["idleTimeoutMs"] == 45_000


async def test_keys_in_the_query_or_header_and_wrong_ones_get_401(tmp_path: Path) -> None:
    async with _server(tmp_path) as (url, container):
        _, issued = await container.keys.create("app", "standard")
        async with connect(f"{url}?apiKey={issued.api_key}") as by_query:
            await _hello(by_query)
        async with connect(url, additional_headers={"X-Api-Key": issued.api_key}) as by_header:
            await _hello(by_header)
        wrong = issued.api_key[:-2] + "AA"
        status, body = await _refusal(
            f"{url}?apiKey={wrong}", additional_headers={"Accept-Language": "ja"}
        )
        await container.keys.revoke(issued.prefix)
        revoked_status, revoked = await _refusal(f"{url}?apiKey={issued.api_key}")
    assert status == 401
    assert body["error"]["code"] == "API_KEY_INVALID"
    assert body["error"]["message"] == "APIキーが正しくありません。"
    assert revoked_status == 403
    assert revoked["error"]["code"] == "API_KEY_REVOKED"


async def test_cross_site_pages_may_not_open_a_socket(tmp_path: Path) -> None:
    async with _server(tmp_path, cors_allow_origins=["https://partner.example"]) as (url, _):
        host = url.split("/")[2]
        status, body = await _refusal(url, origin="https://evil.example")
        async with connect(url, origin=f"http://{host}") as same_site:  # type: ignore[arg-type]
            await _hello(same_site)
        async with connect(url, origin="https://partner.example") as partner:  # type: ignore[arg-type]
            await _hello(partner)
    assert status == 403
    assert body["error"]["code"] == "ORIGIN_NOT_ALLOWED"


async def test_handshakes_count_against_the_visitors_ip(tmp_path: Path) -> None:
    async with _server(tmp_path, anonymous_ip_plan={"rate_per_s": 1, "burst": 2}) as (url, _):
        for _ in range(2):
            async with connect(url) as ws:
                await _hello(ws)
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url):
                pass
    response = refused.value.response
    assert response.status_code == 429
    assert json.loads(response.body or b"{}")["error"]["code"] == "RATE_LIMITED"
    assert int(response.headers["Retry-After"]) >= 1


async def _send(ws: ClientConnection, action: str, **data: Any) -> None:
    await ws.send(json.dumps({"action": action, "data": data}))


async def _next_of(ws: ClientConnection, *types: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if frame["type"] in types:
            return frame


async def test_each_connection_has_a_frame_limit_but_pings_are_free(tmp_path: Path) -> None:
    async with _server(tmp_path, ws_message_limit="2/minute") as (url, _), connect(url) as ws:
        await _hello(ws)
        for ts in range(5):
            await _send(ws, "ping", ts=ts)
            await _next_of(ws, "pong")
        await _send(ws, "getHistory", sessionId="abcdefgh12")
        await _send(ws, "getHistory", sessionId="abcdefgh12")
        await _send(ws, "getHistory", sessionId="abcdefgh12")
        first = await _next_of(ws, "history", "error")
        second = await _next_of(ws, "history", "error")
        third = await _next_of(ws, "history", "error")
    assert [first["type"], second["type"]] == ["history", "history"]
    assert (third["type"], third["code"]) == ("error", "RATE_LIMITED")


async def test_chat_messages_over_a_socket_count_against_the_keys_plan(tmp_path: Path) -> None:
    async with _server(tmp_path) as (url, container):
        _, issued = await container.keys.create("app", "burst5")
        async with connect(url, additional_headers={"X-Api-Key": issued.api_key}) as ws:
            await _hello(ws)  # the handshake is request 1 of 5
            outcomes = []
            for _ in range(5):
                await _send(ws, "sendMessage", message="おすすめは？")
                frame = await _next_of(ws, "done", "error")
                outcomes.append(frame.get("code", frame["type"]))
    assert outcomes == ["done"] * 4 + ["RATE_LIMITED"]


async def test_a_mobile_socket_that_only_chats_without_pinging_is_closed(tmp_path: Path) -> None:
    async def drain(ws: ClientConnection) -> ConnectionClosed:
        while True:
            try:
                await ws.recv()
            except ConnectionClosed as closed:
                return closed

    async with (
        _server(tmp_path, ws_mobile_idle_timeout_s=1.0, ws_idle_timeout_s=1.0) as (
            url,
            _,
        ),
        connect(f"{url}?clientType=mobile") as phone,
        connect(url) as desktop,
    ):
        await _hello(phone)
        await _hello(desktop)
        phone_closed = asyncio.create_task(drain(phone))
        for _ in range(8):  # 2 s of frames, no pings
            with contextlib.suppress(ConnectionClosed):
                await _send(phone, "getHistory", sessionId="abcdefgh12")
            await _send(desktop, "getHistory", sessionId="abcdefgh12")
            await asyncio.sleep(0.25)
        closed = await asyncio.wait_for(phone_closed, 5)
        await _send(desktop, "ping", ts=1)
        assert (await _next_of(desktop, "pong"))["ts"] == 1
    assert closed.rcvd is not None
    assert closed.rcvd.code == 4000
