"""Batch analysis routes: submit a ``batch_analysis`` request, read one item's status."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mangaassist.api.batch_schemas import BatchAccepted, BatchAnalysisRequest, BatchStatus
from mangaassist.api.deps import ContainerDep
from mangaassist.api.errors import ApiError
from mangaassist.api.language import response_language
from mangaassist.api.schemas import ERROR_RESPONSES, ErrorResponse
from mangaassist.domain.batch import PRIORITY_QUEUES
from mangaassist.jobs.batch import NewItem
from mangaassist.jobs.status import render_item
from mangaassist.queues.base import QueueError
from mangaassist.webhooks.ssrf import ForbiddenCallbackError

__all__ = ["router"]

router = APIRouter(prefix="/v1/manga", tags=["batch"], responses=ERROR_RESPONSES)

NO_STORE = {"Cache-Control": "no-store"}
#: Longest request id looked up (ids are 32 hex digits; anything longer is unknown).
MAX_REQUEST_ID = 64

_SUBMIT_ERRORS: dict[int | str, dict[str, object]] = {
    422: {
        "model": ErrorResponse,
        "description": "Schema error (VALIDATION_ERROR, one `details` entry per field), or a "
        "refused callback URL: CALLBACK_URL_NOT_HTTPS, CALLBACK_URL_INVALID, "
        "CALLBACK_URL_FORBIDDEN (loopback, private, link-local, multicast, reserved address), "
        "CALLBACK_URL_UNRESOLVABLE.",
    },
    503: {
        "model": ErrorResponse,
        "description": "Backpressure: the priority's queue has too long a backlog "
        "(BATCH_BACKLOG_FULL) or cannot be reached (QUEUE_UNAVAILABLE); retry after "
        "`Retry-After` seconds.",
    },
}
_STATUS_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "No such request id (BATCH_REQUEST_NOT_FOUND)."}
}


@router.post("/batch", status_code=202, response_model=BatchAccepted, responses=_SUBMIT_ERRORS)
async def submit_batch(
    body: BatchAnalysisRequest, request: Request, container: ContainerDep
) -> BatchAccepted:
    """Accept up to 100 series to analyse (the design documents' ``batch_analysis`` schema).

    Each item becomes its own request, with an id to poll at ``/v1/manga/status/{requestId}``
    and, with ``callback_url``, a signed callback once it is completed or failed. ``priority``
    picks the queue: high, normal or low.
    """
    language = response_language(request.headers.get("accept-language"))
    settings = container.settings
    if body.callback_url is not None:
        try:
            async with asyncio.timeout(settings.callback_timeout_s):
                await container.webhooks.vet(body.callback_url)
        except ForbiddenCallbackError as exc:
            raise ApiError(422, exc.code, language=language, reason=exc.reason) from None
        except TimeoutError:
            raise ApiError(
                422, "CALLBACK_URL_UNRESOLVABLE", language=language, reason="DNS timed out"
            ) from None
    retry_after = {"Retry-After": str(settings.batch_retry_after_s)}
    queue = PRIORITY_QUEUES[body.priority]
    try:
        full = await container.backlog.over_limit(queue)
    except (QueueError, OSError):
        raise ApiError(503, "QUEUE_UNAVAILABLE", language=language, headers=retry_after) from None
    if full:
        raise ApiError(
            503,
            "BATCH_BACKLOG_FULL",
            language=language,
            headers=retry_after,
            seconds=settings.batch_retry_after_s,
        )
    batch, items = await container.batches.submit(
        [NewItem(i.manga_id, i.analysis_type, i.additional_context) for i in body.items],
        priority=body.priority,
        callback_url=body.callback_url,
        notification=body.notification.model_dump(exclude_none=True) if body.notification else None,
    )
    return BatchAccepted(
        request_ids=[item.request_id for item in items],
        item_count=len(items),
        batch_id=batch.id,
    )


@router.get("/status/{request_id}", response_model=BatchStatus, responses=_STATUS_ERRORS)
async def batch_status(request_id: str, request: Request, container: ContainerDep) -> JSONResponse:
    """One item of a batch: queued, processing, completed (with result, usage, model and
    cost) or failed (with the error), and its callback's delivery."""
    item = None
    if len(request_id) <= MAX_REQUEST_ID:
        item = await container.store.get_batch_item(request_id)
    if item is None:
        language = response_language(request.headers.get("accept-language"))
        raise ApiError(
            404, "BATCH_REQUEST_NOT_FOUND", language=language, headers=NO_STORE, id=request_id[:64]
        )
    return JSONResponse(render_item(item), headers=NO_STORE)
