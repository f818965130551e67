"""What the idempotency store answers when an inbound webhook delivery is claimed.

A sender delivers the same webhook again when it did not see our 2xx in time (timeouts, network
errors, its own retries). The first delivery of an idempotency key claims it; the others learn
that it was processed already, or that someone is processing it right now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["ClaimOutcome", "ClaimState"]


class ClaimState(StrEnum):
    """The three answers of ``claim_webhook``."""

    #: This caller owns the key now and must process the delivery, then complete or release it.
    CLAIMED = "claimed"
    #: A delivery with this key was processed within the retention window; ``result`` says how.
    COMPLETED = "completed"
    #: Another caller claimed the key and its lease has not run out yet.
    IN_PROGRESS = "in_progress"


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """The state of a key after a claim, with what the caller needs to answer the sender."""

    state: ClaimState
    #: The stored result of a completed key (small JSON), None otherwise.
    result: dict[str, Any] | None = None
    #: When the key can be claimed again: the end of a lease, or of the retention of a result.
    expires_at: datetime | None = None
    #: Identifies this claim: completing or releasing with it never touches a later claim.
    token: str | None = None
