"""Reading a verified delivery: its JSON, and the key it is processed once under."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from mangaassist.store.schema import MAX_WEBHOOK_KEY_LENGTH
from mangaassist.webhooks.sources import WebhookSource

__all__ = ["BODY_KEY_FIELDS", "MalformedJsonError", "idempotency_key", "parse_payload"]

#: The payload field that names a delivery, by handler (Stripe's event id, the review's id,
#: the catalog batch's id): the same on every retry of the same delivery.
BODY_KEY_FIELDS: dict[str, str] = {"stripe": "id", "reviews": "review_id", "catalog": "batch_id"}


class MalformedJsonError(ValueError):
    """The body is not JSON (or not UTF-8, or uses NaN/Infinity, or nests absurdly deep)."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_payload(raw_body: bytes) -> Any:
    """The JSON value of the body; raises ``MalformedJsonError``."""
    try:
        return json.loads(raw_body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedJsonError(str(exc)) from None


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _usable(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None
    if len(value) > MAX_WEBHOOK_KEY_LENGTH:
        return _sha256(value.encode("utf-8", "surrogatepass"))
    return value


def idempotency_key(
    source: WebhookSource, headers: Mapping[str, str], payload: Mapping[str, Any], raw_body: bytes
) -> str:
    """The key a delivery is deduplicated by.

    The sender's delivery id header when its scheme has one (``X-GitHub-Delivery``,
    ``webhook-id``), else the payload's own id for the handler, else the SHA-256 of the raw body:
    a retry repeats the same bytes. Never the request id, which is new on every retry and would
    make every retry look like a new delivery.
    """
    if source.delivery_id_header is not None:
        wanted = source.delivery_id_header.lower()
        key = _usable(next((v for k, v in headers.items() if k.lower() == wanted), None))
        if key is not None:
            return key
    field = BODY_KEY_FIELDS.get(source.handler)
    if field is not None:
        key = _usable(payload.get(field))
        if key is not None:
            return key
    return _sha256(raw_body)
