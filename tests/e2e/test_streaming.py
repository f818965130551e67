"""The streaming protocol against a served MangaAssist: WebSocket and SSE, as a phone uses them.

The server paces the offline responder (25 ms between deltas) so that an answer takes about a
second, long enough to drop a connection or cancel in the middle of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e

IDLE_TIMEOUT_S = 1.5


@pytest.fixture(scope="module")
def streaming_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("stream")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANGAASSIST_")}
    env |= {
        "MANGAASSIST_STORE_URL": f"sqlite:///{home / 'stream.db'}",
        "MANGAASSIST_OFFLINE_DELTA_DELAY_MS": "25",
        "MANGAASSIST_WS_IDLE_TIMEOUT_S": str(IDLE_TIMEOUT_S),
        "MANGAASSIST_WS_MOBILE_IDLE_TIMEOUT_S": "1.0",
        "MANGAASSIST_WS_MAX_FRAME_BYTES": "8192",
    }
    with start_server(env, home) as running:
        yield running


def ws_url(server: Server, query: str = "") -> str:
    return server.base_url.replace("http://", "ws://") + "/v1/ws" + query


async def frames_until_final(ws: ClientConnection) -> list[dict[str, Any]]:
    """Frames up to and including the message's final event (done, cancelled, or an error that
    ends it: those carry a seq; protocol errors do not)."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
        frames.append(frame)
        if frame["type"] in ("done", "cancelled") or (frame["type"] == "error" and "seq" in frame):
            return frames


async def hello(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert frame["type"] == "hello"
    return frame


async def send(ws: ClientConnection, action: str, **data: Any) -> None:
    await ws.send(json.dumps({"action": action, "data": data}, ensure_ascii=False))


async def test_hello_and_application_ping(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        greeting = await hello(ws)
        assert greeting["pingIntervalMs"] == 20000
        assert greeting["pongTimeoutMs"] == 5000
        assert greeting["resumeWindowS"] == 120
        await send(ws, "ping", ts=12345)
        assert json.loads(await ws.recv()) == {"type": "pong", "ts": 12345}


async def test_deltas_in_order_and_done_equals_the_rest_answer(streaming_server: Server) -> None:
    question = "おすすめの異世界マンガは？"
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message=question)
        frames = await frames_until_final(ws)
    ack, *deltas, done = frames
    assert ack["type"] == "ack"
    assert [d["seq"] for d in deltas] == list(range(1, len(deltas) + 1))
    assert done["type"] == "done"
    assert done["seq"] == len(deltas) + 1
    answer = done["answer"]
    assert "".join(d["text"] for d in deltas) == answer["message"]
    async with httpx.AsyncClient(base_url=streaming_server.base_url) as client:
        rest = (await client.post("/v1/chat", json={"message": question})).json()
    assert set(answer) == set(rest)
    volatile = {"requestId", "sessionId", "latencyMs", "cached", "usage", "costUsd"}
    assert {k: v for k, v in answer.items() if k not in volatile} == {
        k: v for k, v in rest.items() if k not in volatile
    }
    assert answer["requestId"] == ack["requestId"]


async def test_resume_after_a_dropped_connection_gets_every_delta_once(
    streaming_server: Server,
) -> None:
    # Given an answer streaming to a phone
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message="Any good horror manga?")
        ack = json.loads(await ws.recv())
        seen = [json.loads(await ws.recv()) for _ in range(3)]
        # When the train enters a tunnel: the connection dies without a close handshake
        ws.transport.abort()
    await asyncio.sleep(0.2)
    # Then a new connection resumes after the last delta it saw and gets the rest exactly once
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "resume", messageId=ack["messageId"], afterSeq=seen[-1]["seq"])
        rest = await frames_until_final(ws)
    sequence = [f["seq"] for f in seen + rest]
    assert sequence == list(range(1, len(sequence) + 1))
    text = "".join(f["text"] for f in seen + rest if f["type"] == "delta")
    assert text == rest[-1]["answer"]["message"]


async def test_generation_goes_on_when_the_client_leaves(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message="葬送のフリーレンってどんな話？")
        ack = json.loads(await ws.recv())
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while len(messages) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        async with httpx.AsyncClient(base_url=streaming_server.base_url) as client:
            response = await client.get(f"/v1/sessions/{ack['sessionId']}/messages")
        messages = response.json()["messages"] if response.status_code == 200 else []
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert "山田鐘人" in messages[1]["text"]


async def test_cancel_stops_and_records_a_cancelled_turn(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message="おすすめのスポーツ漫画は？")
        ack = json.loads(await ws.recv())
        first = [json.loads(await ws.recv()) for _ in range(2)]
        await send(ws, "cancel", messageId=ack["messageId"])
        rest = await frames_until_final(ws)
        assert rest[-1]["type"] == "cancelled"
        await send(ws, "getHistory", sessionId=ack["sessionId"])
        history = json.loads(await ws.recv())
    shown = "".join(f["text"] for f in first + rest if f["type"] == "delta")
    assistant = history["messages"][-1]
    assert assistant["cancelled"] is True
    assert assistant["text"] == shown


async def test_second_message_while_generating_is_refused(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message="泣ける漫画が読みたい")
        await ws.recv()  # ack
        await send(ws, "sendMessage", message="こんにちは")
        frames = await frames_until_final(ws)
    errors = [f for f in frames if f["type"] == "error"]
    assert errors[0]["code"] == "GENERATION_IN_PROGRESS"
    assert frames[-1]["type"] == "done"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", "MALFORMED_FRAME"),
        ("[1, 2]", "MALFORMED_FRAME"),
        ('{"action": "fly"}', "UNKNOWN_ACTION"),
        ('{"action": "resume", "data": {"afterSeq": -1}}', "VALIDATION_ERROR"),
        ('{"action": "sendMessage", "data": {"message": ""}}', "EMPTY_MESSAGE"),
        ('{"action": "resume", "data": {"messageId": "0123456789abcdef"}}', "RESUME_NOT_AVAILABLE"),
    ],
)
async def test_malformed_frames_get_an_error_frame_and_the_connection_stays(
    streaming_server: Server, raw: str, code: str
) -> None:
    async with connect(
        ws_url(streaming_server), additional_headers={"Accept-Language": "ja"}
    ) as ws:
        await hello(ws)
        await ws.send(raw)
        error = json.loads(await ws.recv())
        assert error["type"] == "error"
        assert error["code"] == code
        assert error["message"]
        await send(ws, "ping", ts=1)
        assert json.loads(await ws.recv())["type"] == "pong"


async def test_binary_and_oversized_frames(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await ws.send(b"\x00\x01")
        assert json.loads(await ws.recv())["code"] == "MALFORMED_FRAME"
        await send(ws, "sendMessage", message="あ" * 5000)  # 15 kB > 8 kB frame limit
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009


async def test_idle_connections_are_closed_with_a_documented_code(streaming_server: Server) -> None:
    started = time.monotonic()
    async with connect(ws_url(streaming_server, "?clientType=mobile")) as ws:
        greeting = await hello(ws)
        assert greeting["idleTimeoutMs"] == 1000
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4000
    assert time.monotonic() - started < 4


async def test_pings_keep_a_connection_alive(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        for _ in range(4):  # 4 x 0.6 s > the 1.5 s idle timeout
            await asyncio.sleep(0.6)
            await send(ws, "ping", ts=1)
            assert json.loads(await ws.recv())["type"] == "pong"


async def test_retry_with_the_same_client_message_id_does_not_answer_twice(
    streaming_server: Server,
) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message="Who wrote Berserk?", clientMessageId="phone-1")
        first = await frames_until_final(ws)
        session = first[0]["sessionId"]
        await send(
            ws, "sendMessage", message="Who wrote Berserk?", clientMessageId="phone-1",
            sessionId=session,
        )  # fmt: skip
        again = json.loads(await ws.recv())
    assert again["messageId"] == first[0]["messageId"]
    async with httpx.AsyncClient(base_url=streaming_server.base_url) as client:
        history = (await client.get(f"/v1/sessions/{session}/messages")).json()
    assert len(history["messages"]) == 2


async def test_a_hundred_concurrent_connections_each_stream_an_answer(
    streaming_server: Server,
) -> None:
    questions = [
        "おすすめの異世界マンガは？",
        "Any good horror manga?",
        "送料はいくらですか？",
        "Hi!",
    ]

    async def one(i: int) -> list[dict[str, Any]]:
        async with connect(ws_url(streaming_server)) as ws:
            await hello(ws)
            await send(ws, "sendMessage", message=questions[i % len(questions)])
            return await frames_until_final(ws)

    results = await asyncio.gather(*(one(i) for i in range(100)))
    for frames in results:
        assert frames[-1]["type"] == "done"
        seqs = [f["seq"] for f in frames[1:]]
        assert seqs == list(range(1, len(seqs) + 1))


def _sse_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    event: dict[str, Any] = {}
    for line in lines:
        if not line:
            if event:
                yield event
            event = {}
        elif line.startswith("id: "):
            event["id"] = line[4:]
        elif line.startswith("event: "):
            event["event"] = line[7:]
        elif line.startswith("data: "):
            event["data"] = json.loads(line[6:])


def test_sse_stream_and_resume_with_last_event_id(streaming_server: Server) -> None:
    url = f"{streaming_server.base_url}/v1/chat/stream"
    body = {"message": "おすすめのホラー漫画は？"}
    seen: list[dict[str, Any]] = []
    with httpx.Client(timeout=10) as client:
        with client.stream("POST", url, json=body) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            for event in _sse_events(response.iter_lines()):
                seen.append(event)
                if len(seen) == 4:  # ack + 3 deltas, then the connection drops
                    break
        last_id = seen[-1]["id"]
        with client.stream("POST", url, json=body, headers={"Last-Event-ID": last_id}) as response:
            rest = list(_sse_events(response.iter_lines()))
    assert seen[0]["event"] == "ack"
    events = seen[1:] + rest
    seqs = [int(e["id"].rpartition(":")[2]) for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rest[-1]["event"] == "done"
    text = "".join(e["data"]["text"] for e in events if e["event"] == "delta")
    assert text == rest[-1]["data"]["answer"]["message"]


def test_sse_rejects_bad_messages_before_streaming(streaming_server: Server) -> None:
    response = httpx.post(
        f"{streaming_server.base_url}/v1/chat/stream", json={"message": "あ" * 4001}
    )
    assert response.status_code == 422
    assert response.json()["error"]["message"] == "メッセージが長すぎます（最大4000文字）"


async def test_streaming_metrics_are_exported(streaming_server: Server) -> None:
    async with connect(ws_url(streaming_server)) as ws:
        await hello(ws)
        await send(ws, "sendMessage", message="こんにちは")
        await frames_until_final(ws)
        async with httpx.AsyncClient(base_url=streaming_server.base_url) as client:
            text = (await client.get("/metrics")).text
    assert "mangaassist_ws_connections" in text
    assert 'mangaassist_ws_frames_total{action="sendMessage"}' in text
    assert "mangaassist_stream_first_delta_seconds_count" in text
    assert 'mangaassist_ws_closes_total{reason="idle"}' in text
    assert 'mangaassist_stream_resumes_total{transport="websocket"}' in text
