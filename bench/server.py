"""A MangaAssist server for benchmarks: started on a free 127.0.0.1 port, stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

__all__ = ["free_port", "running_server", "wait_until_ready"]

#: Generous: with a 100k catalog every worker builds its search index before it is ready.
READY_TIMEOUT_S = 180


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], timeout_s: float, interval_s: float = 0.3
) -> None:
    """Poll ``url`` until it answers 200; ``RuntimeError`` when ``process`` exits or time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"{url} did not become ready")
        time.sleep(interval_s)


@contextmanager
def running_server(
    store_url: str, workers: int = 1, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Serve ``store_url`` and yield the base URL once /readyz answers 200."""
    env = {
        **os.environ,
        "MANGAASSIST_STORE_URL": store_url,
        "MANGAASSIST_LOG_LEVEL": "warning",
        **(extra_env or {}),
    }
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "mangaassist", "serve", "--port", str(port), "--workers",
         str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    running_server.pid = server.pid  # type: ignore[attr-defined]  # for memory readings
    try:
        wait_until_ready(f"{base}/readyz", server, READY_TIMEOUT_S)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
