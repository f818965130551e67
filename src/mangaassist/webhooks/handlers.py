"""What inbound webhook handlers share: the delivery, the result, and how a payload is refused.

A handler turns one verified, parsed delivery into its effect (events on the bus, catalog
writes) and returns a small summary that the idempotency store keeps for duplicates. It must be
safe to run again for the same delivery (a crash between its effect and the completion of the
key makes the sender retry): writes set values rather than add to them, and the events it
publishes carry ids derived from the idempotency key, so a consumer sees the same event ids
again and can drop the repeats.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "PAYLOAD_INVALID",
    "Delivery",
    "HandlerResult",
    "IgnoreHandler",
    "UnusablePayloadError",
    "WebhookHandler",
    "event_id",
    "optional_str",
    "required_str",
]

#: The code of a payload that is JSON but cannot be used (a missing or malformed field).
PAYLOAD_INVALID = "WEBHOOK_PAYLOAD_INVALID"

#: Namespace of the event ids derived from idempotency keys (uuid5).
_EVENT_NAMESPACE = uuid.UUID("6f0d2a52-8b7e-4f5e-9a8c-3c1d1f6e2b10")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One verified delivery: which source sent it and the key it is processed once under."""

    source: str
    key: str


@dataclass(frozen=True, slots=True)
class HandlerResult:
    """What a delivery did: ``processed`` (it had an effect) or ``ignored`` (a kind of event we
    do not act on, acknowledged so the sender stops retrying); ``summary`` is small JSON with
    camelCase keys, shown to the sender and kept for its duplicates."""

    outcome: Literal["processed", "ignored"]
    summary: dict[str, Any] = field(default_factory=dict)


class UnusablePayloadError(Exception):
    """Valid JSON that cannot be used: the sender must fix the payload, a retry cannot help.

    ``details`` are ``{"field", "message"}`` entries for the error envelope.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str = PAYLOAD_INVALID,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.details = details or []


class WebhookHandler(Protocol):
    """Handles the deliveries of the sources configured with its name."""

    async def handle(self, payload: Mapping[str, Any], delivery: Delivery) -> HandlerResult:
        """Apply the delivery; raise ``UnusablePayloadError`` for a payload that cannot be used, and
        anything else for a failure of ours (the sender is asked to retry)."""
        ...


class IgnoreHandler:
    """Handler ``none``: acknowledge verified deliveries and do nothing (a sender being set up,
    or one whose events nothing consumes yet)."""

    async def handle(self, payload: Mapping[str, Any], delivery: Delivery) -> HandlerResult:
        return HandlerResult("ignored", {"reason": "no handler is configured for this source"})


def event_id(delivery: Delivery, index: int = 0) -> str:
    """The id of the ``index``-th event a delivery publishes: the same on every redelivery."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{delivery.source}\x1f{delivery.key}\x1f{index}"))


def required_str(data: Mapping[str, Any], name: str, *, where: str = "") -> str:
    """``data[name]`` as a non-blank string, else ``UnusablePayloadError`` naming the field."""
    value = data.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        path = f"{where}.{name}" if where else name
        raise UnusablePayloadError(
            f"`{path}` is required (a non-empty string)",
            details=[{"field": path, "message": "required: a non-empty string"}],
        )
    return value


def optional_str(data: Mapping[str, Any], name: str) -> str | None:
    """``data[name]`` when it is a non-blank string, else None."""
    value = data.get(name)
    return value if isinstance(value, str) and value.strip() else None
