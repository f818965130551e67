"""The application factory: one FastAPI app per container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from mangaassist import __version__
from mangaassist.api.access_docs import document_access
from mangaassist.api.errors import install_error_handlers
from mangaassist.api.middleware.access import AccessMiddleware
from mangaassist.api.middleware.body_limit import BodyLimitMiddleware
from mangaassist.api.middleware.request_context import RequestContextMiddleware
from mangaassist.api.middleware.security_headers import SecurityHeadersMiddleware
from mangaassist.api.routes import (
    admin_events,
    admin_keys,
    batch,
    caller,
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

#: Headers a partner's page may send cross-origin.
CORS_REQUEST_HEADERS = [
    "Accept-Language",
    "Authorization",
    "Content-Type",
    "Last-Event-ID",
    "X-Api-Key",
    "X-Request-Id",
]
#: Response headers a partner's page may read.
CORS_EXPOSED_HEADERS = [
    "Retry-After",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-Request-Id",
]

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
    app.include_router(admin_keys.router)
    app.include_router(recommend.router)
    app.include_router(caller.router)
    app.include_router(sessions.router)
    app.include_router(stream.router)
    app.include_router(ws.router)
    app.include_router(webhooks.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.WEB_DIR), name="static")
    add_middleware(app, container)
    document_access(app)
    return app


def add_middleware(app: FastAPI, container: Container) -> None:
    """From the outside in: request context, security headers, CORS, body size, access."""
    settings = container.settings
    gate = container.access.gate
    if gate is not None:
        app.add_middleware(AccessMiddleware, gate=gate, metrics=container.access.metrics)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        by_route=settings.max_body_bytes_by_route,
    )
    if settings.cors_allow_origins:
        # Outside access control: preflights carry no credentials, and refusals need the
        # CORS headers too or the partner's page cannot read why it was refused.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=CORS_REQUEST_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age_s=settings.hsts_max_age_s)
    app.add_middleware(RequestContextMiddleware, metrics=container.metrics)  # outermost


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory``: settings from the environment, logging configured."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings)
