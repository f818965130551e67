"""A moto server in a subprocess: the AWS APIs (SQS, EventBridge) for tests and benchmarks.

``start_moto_server()`` is a context manager for any caller (a benchmark, a script); the
session fixture ``moto_server`` shares one server per test session. Moto keeps every account's
state in memory and its clock is the real one, so tests isolate themselves by name (a unique
queue-name prefix each) instead of resetting it.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_service

__all__ = ["MOTO_CREDENTIALS", "MotoServer", "moto_server", "start_moto_server"]

#: Moto accepts any credentials; these go into URLs so no client looks for real ones.
MOTO_CREDENTIALS = ("testing", "testing")
#: Longest a cold start may take (importing moto's server pulls in every service's models).
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class MotoServer:
    """A running moto server: ``endpoint`` is its base URL, e.g. ``http://127.0.0.1:5123``."""

    host: str
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def sqs_url(self, *, region: str = "us-east-1", prefix: str = "") -> str:
        """A ``MANGAASSIST_QUEUES_URL`` for this server (``sqs+http://``, test credentials)."""
        key, secret = MOTO_CREDENTIALS
        query = f"?region={region}" + (f"&prefix={prefix}" if prefix else "")
        return f"sqs+http://{key}:{secret}@{self.host}:{self.port}{query}"

    def eventbridge_url(self, *, bus: str, region: str = "us-east-1") -> str:
        """A ``MANGAASSIST_EVENTS_URL`` for a bus on this server (``eventbridge+http://``)."""
        key, secret = MOTO_CREDENTIALS
        return f"eventbridge+http://{key}:{secret}@{self.host}:{self.port}/{bus}?region={region}"


def moto_problem() -> str | None:
    """Why a moto server cannot be started here, or None when it can."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        return "moto[server] is not installed (pip install 'moto[server]>=5')"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(server: MotoServer) -> bool:
    try:
        with urllib.request.urlopen(f"{server.endpoint}/moto-api/", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def start_moto_server() -> Iterator[MotoServer]:
    """Start ``python -m moto.server`` on a free loopback port; stop it on exit."""
    server = MotoServer("127.0.0.1", _free_port())
    with tempfile.TemporaryDirectory(prefix="moto-") as home:
        log_path = Path(home) / "moto.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", server.host, "-p", str(server.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(server):
                if process.poll() is not None or time.monotonic() > deadline:
                    log_text = log_path.read_text(errors="replace")
                    raise RuntimeError(f"moto did not start on {server.endpoint}:\n{log_text}")
                time.sleep(0.1)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One moto server for the whole session (skips locally without moto, fails in CI)."""
    require_service("moto", moto_problem)
    with start_moto_server() as server:
        yield server
