"""Running a fake model server: in a thread of the test process, or as a process of its own.

``serve_in_thread(app)`` runs uvicorn on 127.0.0.1 (a free port) in a daemon thread with its own
event loop, so a server that hangs on purpose never blocks the test's loop; it yields the base
URL. ``main(create_app)`` is the ``python -m tests.model_servers.<fake>`` entry point the
benchmarks use: ``--port`` and ``--plan`` (the JSON of a ``FaultPlan``).
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from tests.model_servers.faults import FakeModelState, FaultPlan

__all__ = ["main", "serve_in_thread"]

START_TIMEOUT_S = 10.0

AppFactory = Callable[[FakeModelState], FastAPI]


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields ``http://127.0.0.1:PORT``."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-model-server", daemon=True)
    thread.start()
    started = time.monotonic()
    while not server.started:
        if time.monotonic() - started > START_TIMEOUT_S or not thread.is_alive():
            raise RuntimeError("the fake model server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # hung calls (TIMEOUT, STALL) must not hold the test up
        thread.join(timeout=5)


def main(create_app: AppFactory) -> None:
    """Serve a fake in this process (for benchmarks)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--plan", default="{}", help="a FaultPlan as JSON")
    args = parser.parse_args()
    state = FakeModelState(FaultPlan.from_json(json.loads(args.plan)))
    uvicorn.run(
        create_app(state), host="127.0.0.1", port=args.port, log_level="warning", lifespan="off"
    )
