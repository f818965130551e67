"""Serving the real app on a free port inside the test's event loop (WebSocket tests)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

__all__ = ["serve_in_loop"]


@asynccontextmanager
async def serve_in_loop(app: FastAPI) -> AsyncIterator[int]:
    """Run uvicorn (with the app's lifespan) on 127.0.0.1 until the block ends; yields the port."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start
        await asyncio.sleep(0.02)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await serving
