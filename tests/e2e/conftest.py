"""A real ``mangaassist serve`` process on a free loopback port, with its own store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CLI = [sys.executable, "-m", "mangaassist"]


@dataclass
class Server:
    """A running server and what it wrote to stderr (its JSON logs)."""

    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_healthy(server: Server, timeout_s: float = 30.0) -> None:
    """Return once ``/healthz`` answers 200; raise with the server's log if it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.logs()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not healthy after {timeout_s}s:\n{server.logs()}")


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANGAASSIST_")}
    env["MANGAASSIST_STORE_URL"] = f"sqlite:///{home / 'e2e.db'}"
    env["MANGAASSIST_LOG_FORMAT"] = "json"
    return env


@contextmanager
def start_server(
    env: dict[str, str], log_dir: Path, *, load_catalog: bool = True
) -> Iterator[Server]:
    """The curated catalog loaded with the CLI, then the API served as `make run` does."""
    if load_catalog:
        subprocess.run(
            [*CLI, "catalog", "load", "--if-empty"], env=env, check=True, capture_output=True
        )
    port = _free_port()
    log_path = log_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    running = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_until_healthy(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def server(
    server_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """A server on the embedded defaults with the curated catalog."""
    with start_server(server_env, tmp_path_factory.mktemp("logs")) as running:
        yield running
