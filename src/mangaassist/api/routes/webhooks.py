"""``POST /webhooks/{source}``: inbound webhooks (Stripe payments, reviews, the catalog feed).

Thin: the raw body goes to ``InboundWebhooks`` untouched (signatures are over the exact bytes),
and its outcome becomes the answer, errors in the API's envelope. docs/webhooks.md says what a
sender should do with each status.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mangaassist.api.deps import ContainerDep
from mangaassist.api.errors import error_body, request_id_of
from mangaassist.api.language import response_language
from mangaassist.api.schemas import ERROR_RESPONSES, ApiModel, ErrorResponse

__all__ = ["WebhookAck", "router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


class WebhookAck(ApiModel):
    """A delivery was taken: ``processed``, ``ignored`` (an event type the shop does not act
    on) or ``already_processed`` (a duplicate; ``result`` is what the first delivery did)."""

    status: Literal["processed", "ignored", "already_processed"]
    source: str
    idempotency_key: str
    result: dict[str, Any]


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorResponse, "description": description}


_RESPONSES: dict[int | str, dict[str, object]] = {
    401: _error(
        "Not authentic, do not retry unchanged: WEBHOOK_SIGNATURE_MISSING (no signature or "
        "timestamp header), WEBHOOK_SIGNATURE_INVALID (no active secret signs this body), "
        "WEBHOOK_TIMESTAMP_INVALID."
    ),
    403: _error(
        "Authentic but outside the replay window (WEBHOOK_TIMESTAMP_STALE): check the sender's "
        "clock; sign each retry with a fresh timestamp."
    ),
    404: _error("No source of that name is configured (WEBHOOK_SOURCE_UNKNOWN)."),
    409: _error(
        "The same delivery is being processed right now (WEBHOOK_IN_PROGRESS): retry after "
        "`Retry-After` seconds; the retry answers `already_processed` once it is done."
    ),
    422: _error(
        "JSON that cannot be used (WEBHOOK_PAYLOAD_INVALID, see `details`); recorded as "
        "rejected, so a resend answers 200 `already_processed`."
    ),
    503: _error(
        "Processing failed on our side (WEBHOOK_PROCESSING_FAILED); nothing was kept: retry "
        "after `Retry-After` seconds."
    ),
}

_ANY_JSON: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The sender's JSON, signed as sent (see docs/webhooks.md).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.post(
    "/{source}",
    response_model=WebhookAck,
    responses=_RESPONSES,
    openapi_extra=_ANY_JSON,
)
async def receive_webhook(source: str, request: Request, container: ContainerDep) -> JSONResponse:
    """Take one signed delivery from a configured source, verified on the raw body and
    processed at most once per idempotency key (duplicates answer ``already_processed``)."""
    raw_body = await request.body()
    outcome = await container.inbound_webhooks.receive(source, request.headers, raw_body)
    if outcome.body is not None:
        return JSONResponse(outcome.body)
    assert outcome.code is not None
    language = response_language(request.headers.get("accept-language"))
    headers = None
    if outcome.retry_after_s is not None:
        headers = {"Retry-After": str(outcome.retry_after_s)}
    body = error_body(
        outcome.code, language, request_id_of(request.scope), outcome.details, outcome.params
    )
    return JSONResponse(body, status_code=outcome.status, headers=headers)
