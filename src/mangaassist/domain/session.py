"""Chat sessions: the turns of one conversation and when it expires."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

__all__ = ["Role", "Session", "Turn"]


class Role(StrEnum):
    """Who spoke."""

    USER = "user"
    ASSISTANT = "assistant"


@dataclass(frozen=True, slots=True)
class Turn:
    """One message of a conversation.

    ``product_ids`` are the series the message showed (assistant) so that follow-ups such as
    "その2巻は在庫ありますか？" know what "その" refers to. ``cancelled`` marks an answer the
    customer stopped before it finished.
    """

    role: Role
    text: str
    created_at: datetime
    language: str = "ja"
    intent: str = ""
    product_ids: tuple[str, ...] = ()
    tokens: int = 0
    request_id: str = ""
    cancelled: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    """A conversation: its turns in order and when it was last active."""

    session_id: str
    created_at: datetime
    last_active_at: datetime
    turns: tuple[Turn, ...] = field(default_factory=tuple)

    def is_expired(self, now: datetime, idle: timedelta) -> bool:
        """True when nothing happened for longer than ``idle``."""
        return now - self.last_active_at > idle
