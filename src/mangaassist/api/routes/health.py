"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from mangaassist import __version__
from mangaassist.api.deps import ContainerDep
from mangaassist.api.schemas import BackendState, Health, Readiness
from mangaassist.observability.metrics import CONTENT_TYPE_LATEST

__all__ = ["router"]

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok", version=__version__)


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "A backend is unavailable."}},
)
async def readyz(container: ContainerDep) -> Response:
    """Ready when the store answers at the current schema; reports each backend's state."""
    store = container.store
    backends: dict[str, BackendState] = {}
    try:
        await store.ping()
        schema = await store.schema_version()
        series = await store.count_series()
        backends["store"] = BackendState(
            backend=store.backend,
            status="ok",
            detail={"schemaVersion": schema, "series": series},
        )
    except Exception as exc:  # readiness reports any failure instead of raising it
        backends["store"] = BackendState(
            backend=store.backend, status="unavailable", detail={"error": type(exc).__name__}
        )
    indexed = container.catalog.indexed_count
    backends["search"] = BackendState(
        backend="memory",
        status="ok" if indexed is not None else "building",
        detail={"series": indexed or 0},
    )
    ready = all(b.status == "ok" for b in backends.values())
    body = Readiness(status="ready" if ready else "unavailable", backends=backends)
    return JSONResponse(
        body.model_dump(mode="json", by_alias=True), status_code=200 if ready else 503
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text."}},
)
async def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics: request counts and latency per route and status."""
    return Response(container.metrics.render(), media_type=CONTENT_TYPE_LATEST)
