"""The application factory: one FastAPI app per container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from mangaassist import __version__
from mangaassist.api.errors import install_error_handlers
from mangaassist.api.middleware.body_limit import BodyLimitMiddleware
from mangaassist.api.middleware.request_context import RequestContextMiddleware
from mangaassist.api.routes import (
    admin_events,
    batch,
    catalog,
    chat,
    health,
    recommend,
    sessions,
    stream,
    web,
    webhooks,
    ws,
)
from mangaassist.bootstrap import Container, build
from mangaassist.observability.logging import configure_logging
from mangaassist.queues.runtime import background_jobs
from mangaassist.settings import Settings

__all__ = ["create_app", "create_app_from_env"]

DESCRIPTION = """\
MangaAssist answers customers of a Japanese manga store in Japanese or English, grounded in the
store's catalog. Errors use one envelope: `{"error": {"code", "message", "details"},
"requestId"}` with a stable `code` and a message in the request's language.
"""


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    """Build the app on ``container`` (or one built from ``settings``)."""
    container = container or build(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await container.start()
        await container.catalog.index()  # first search should not pay for the index build
        async with background_jobs(container, worker=container.settings.worker_embedded):
            yield
            await container.streaming.close()
        await container.close()

    app = FastAPI(
        title="MangaAssist",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.container = container
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(catalog.router)
    app.include_router(chat.router)
    app.include_router(batch.router)
    app.include_router(admin_events.router)
    app.include_router(recommend.router)
    app.include_router(sessions.router)
    app.include_router(stream.router)
    app.include_router(ws.router)
    app.include_router(webhooks.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.WEB_DIR), name="static")
    app.add_middleware(BodyLimitMiddleware, max_bytes=container.settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=container.metrics)  # outermost
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from the environment, logging configured."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
