"""What ``InboundWebhooks.receive`` answers: a 200 body, or an error for the API's envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILED_RETRY_AFTER_S", "InboundOutcome", "error_outcome", "unavailable"]

#: ``Retry-After`` of a delivery whose processing failed on our side.
FAILED_RETRY_AFTER_S = 10


@dataclass(frozen=True, slots=True)
class InboundOutcome:
    """The answer to the sender: a 200 ``body``, or an error ``code`` for the error envelope."""

    status: int
    body: dict[str, Any] | None = None
    code: str | None = None
    retry_after_s: int | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    #: Placeholders of the error's localized message.
    params: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.code is None


def error_outcome(
    status: int,
    code: str,
    *,
    retry_after_s: int | None = None,
    details: list[dict[str, Any]] | None = None,
    seconds: float | None = None,
) -> InboundOutcome:
    """An error answer; ``seconds`` (else ``retry_after_s``) fills the message's ``{seconds}``."""
    wait = retry_after_s if seconds is None else seconds
    return InboundOutcome(
        status,
        code=code,
        retry_after_s=retry_after_s,
        details=details or [],
        params={} if wait is None else {"seconds": wait},
    )


def unavailable() -> InboundOutcome:
    """503 ``WEBHOOK_PROCESSING_FAILED``: nothing was kept, the sender must retry."""
    return error_outcome(503, "WEBHOOK_PROCESSING_FAILED", retry_after_s=FAILED_RETRY_AFTER_S)
