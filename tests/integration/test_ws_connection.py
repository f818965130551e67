"""One WebSocket connection with a fake socket: backpressure, rate-limit hook, authorizer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from mangaassist.access.principal import Admission, Refusal
from mangaassist.api.app import create_app
from mangaassist.api.ws_connection import CLOSE_SLOW_READER, ConnectionLimits, WsConnection
from mangaassist.bootstrap import Container, build
from mangaassist.settings import Settings
from mangaassist.stream.authorizer import Handshake, Principal
from tests.served import serve_in_loop


class FakeSocket:
    """Plays the client: frames in through a queue; ``reading=False`` is a reader that stalls."""

    def __init__(self, *, reading: bool = True) -> None:
        self.incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: list[dict[str, Any]] = []
        self.closed: tuple[int, str] | None = None
        self._reading = asyncio.Event()
        if reading:
            self._reading.set()

    def client_sends(self, action: str, **data: Any) -> None:
        frame = json.dumps({"action": action, "data": data})
        self.incoming.put_nowait({"type": "websocket.receive", "text": frame})

    async def receive(self) -> dict[str, Any]:
        return await self.incoming.get()

    async def send_text(self, text: str) -> None:
        await self._reading.wait()
        self.sent.append(json.loads(text))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed = (code, reason)
        self.incoming.put_nowait({"type": "websocket.disconnect", "code": code})


def _limits(**overrides: Any) -> ConnectionLimits:
    values: dict[str, Any] = {
        "ping_interval_s": 20, "pong_timeout_s": 5, "idle_timeout_s": 60,
        "resume_window_s": 120, "max_frame_bytes": 65536, "send_queue_frames": 16,
    }  # fmt: skip
    return ConnectionLimits(**(values | overrides))


@pytest.fixture
async def container(tmp_path: Path) -> Any:
    built = build(Settings(store_url=f"sqlite:///{tmp_path / 'ws.db'}"))
    await built.start()
    yield built
    await built.close()


def _connection(container: Container, socket: FakeSocket, **kwargs: Any) -> WsConnection:
    return WsConnection(
        socket,  # type: ignore[arg-type]
        streaming=container.streaming,
        store=container.store,
        metrics=container.stream_metrics,
        limits=_limits(),
        headers={},
        **kwargs,
    )


async def test_a_reader_that_stops_reading_is_closed_not_buffered(container: Container) -> None:
    # Given a client that sends but never reads, with room for 16 frames in its queue
    socket = FakeSocket(reading=False)
    for i in range(40):
        socket.client_sends("ping", ts=i)
    # When the server's answers pile up
    await asyncio.wait_for(_connection(container, socket).serve(), 5)
    # Then the connection is closed with the documented slow-reader code
    assert socket.closed is not None
    assert socket.closed[0] == CLOSE_SLOW_READER


async def test_frame_limiter_hook_answers_rate_limited(container: Container) -> None:
    class OneMessage:
        def __init__(self) -> None:
            self.used = 0

        async def check(
            self, connection_id: str, action: str, session_id: str | None
        ) -> str | None:
            self.used += 1
            return None if self.used <= 1 else "RATE_LIMITED"

    socket = FakeSocket()
    socket.client_sends("getHistory", sessionId="abcdefgh12")
    socket.client_sends("getHistory", sessionId="abcdefgh12")
    socket.client_sends("ping", ts=1)  # pings are never limited: they keep the line alive
    serving = asyncio.create_task(_connection(container, socket, limiter=OneMessage()).serve())
    while len(socket.sent) < 4:
        await asyncio.sleep(0.01)
    await socket.close()
    await serving
    assert [f["type"] for f in socket.sent] == ["hello", "history", "error", "pong"]
    assert socket.sent[2]["code"] == "RATE_LIMITED"


async def test_authorizer_refusal_fails_the_handshake(tmp_path: Path) -> None:
    class KeyRequired:
        async def __call__(self, handshake: Handshake) -> Admission | Refusal:
            if handshake.query.get("token") == "s3cret":
                return Admission(Principal("partner"))
            return Refusal(403, "API_KEY_INVALID")

    container = build(Settings(store_url=f"sqlite:///{tmp_path / 'auth.db'}"))
    container.authorizer = KeyRequired()
    async with serve_in_loop(create_app(container=container)) as port:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{port}/v1/ws"):
                pass
        assert refused.value.response.status_code == 403
        async with connect(f"ws://127.0.0.1:{port}/v1/ws?token=s3cret") as ws:
            assert json.loads(await ws.recv())["type"] == "hello"
