"""A real `mangaassist serve`: submit a batch, poll its status, receive the signed callback."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from mangaassist.webhooks.signing import new_secret, verify
from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.timeout(120)
SECRET = new_secret()


@pytest.fixture(scope="module")
def callbacks() -> Iterator[tuple[int, list[tuple[dict[str, str], bytes]]]]:
    """A real HTTP receiver on loopback recording every POST."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def batch_server(
    server_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    callbacks: tuple[int, list[tuple[dict[str, str], bytes]]],
) -> Iterator[Server]:
    env = {
        **server_env,
        "MANGAASSIST_CALLBACK_SECRET": SECRET,
        "MANGAASSIST_CALLBACK_ALLOWED_HOSTS": json.dumps([f"127.0.0.1:{callbacks[0]}"]),
    }
    with start_server(env, tmp_path_factory.mktemp("batch-logs")) as running:
        yield running


def test_a_batch_completes_and_its_signed_callback_arrives(
    batch_server: Server, callbacks: tuple[int, list[tuple[dict[str, str], bytes]]]
) -> None:
    port, received = callbacks
    response = httpx.post(
        f"{batch_server.base_url}/v1/manga/batch",
        json={
            "items": [{"manga_id": "MNG-L53JXTJI", "analysis_type": "similar_series"}],
            "callback_url": f"http://127.0.0.1:{port}/hooks/mangaassist",
            "priority": "high",
        },
    )
    assert response.status_code == 202, response.text
    [request_id] = response.json()["requestIds"]

    deadline = time.monotonic() + 60
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = httpx.get(f"{batch_server.base_url}/v1/manga/status/{request_id}").json()
        if status["status"] == "completed" and status["callback"]["status"] == "delivered":
            break
        time.sleep(0.2)
    assert status["status"] == "completed", status
    assert status["usage"]["outputTokens"] > 0
    assert status["modelId"] == "offline"
    assert status["callback"]["status"] == "delivered", batch_server.logs()[-3000:]

    [(headers, body)] = received
    verify(SECRET, headers, body)
    assert headers["webhook-id"] == f"msg_{request_id}"
    payload = json.loads(body)
    assert payload["type"] == "batch_analysis.completed"
    assert payload["data"]["requestId"] == request_id
    assert payload["data"]["result"] == status["result"]
