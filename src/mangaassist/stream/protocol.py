"""Client frames of the WebSocket protocol: ``{"action": ..., "data": {...}}``, parsed strictly.

A frame that is not JSON, not an object, names no known action, or carries invalid data is a
``ProtocolError`` with a stable code; the connection answers it with an ``error`` frame and
stays open. Nothing a client sends can crash the connection or be dropped silently.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.alias_generators import to_camel

__all__ = [
    "ACTIONS",
    "Cancel",
    "ClearSession",
    "GetHistory",
    "Ping",
    "ProtocolError",
    "Resume",
    "SendMessage",
    "parse_frame",
]

SessionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
MessageId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class _Data(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class SendMessage(_Data):
    """Ask a question; answered with ack, deltas and done."""

    message: Annotated[str, Field(max_length=40_000)]
    session_id: SessionId | None = None
    preferred_language: Literal["ja", "en", "auto"] = "auto"
    model_preference: Literal["auto", "fast", "quality"] = "auto"
    client_message_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class Ping(_Data):
    """Application heartbeat (never rely on WebSocket control frames)."""

    ts: int | float | str | None = None


class Resume(_Data):
    """Continue a message after the last delta the client saw."""

    message_id: MessageId
    after_seq: Annotated[int, Field(ge=0)] = 0


class Cancel(_Data):
    """Stop a generation."""

    message_id: MessageId


class GetHistory(_Data):
    """Send the conversation's messages."""

    session_id: SessionId


class ClearSession(_Data):
    """Forget the conversation."""

    session_id: SessionId


ACTIONS: dict[str, type[_Data]] = {
    "sendMessage": SendMessage,
    "ping": Ping,
    "resume": Resume,
    "cancel": Cancel,
    "getHistory": GetHistory,
    "clearSession": ClearSession,
}


class ProtocolError(ValueError):
    """A frame the server cannot act on."""

    def __init__(self, code: str, details: list[dict[str, str]] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details or []


def parse_frame(text: str) -> tuple[str, _Data]:
    """The action and its validated data, or ``ProtocolError``."""
    try:
        frame = json.loads(text)
    except json.JSONDecodeError:
        raise ProtocolError("MALFORMED_FRAME") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("action"), str):
        raise ProtocolError("MALFORMED_FRAME")
    action = frame["action"]
    model = ACTIONS.get(action)
    if model is None:
        raise ProtocolError("UNKNOWN_ACTION")
    data = frame.get("data", {})
    if not isinstance(data, dict) or set(frame) - {"action", "data"}:
        raise ProtocolError("MALFORMED_FRAME")
    try:
        return action, model.model_validate(data)
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"]),
                "type": err["type"],
                "message": err["msg"],
            }
            for err in exc.errors(include_url=False)
        ]
        raise ProtocolError("VALIDATION_ERROR", details) from None
