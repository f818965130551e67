"""Keeps credentials out of logs, whoever writes the line (uvicorn, websockets or our code).

Browsers cannot set headers on a WebSocket, so keys and tokens may arrive in the handshake's
query (``?apiKey=``, ``?token=``), and uvicorn logs each handshake's path with its query. Any
``mk_live_`` key is also cut to its public prefix wherever it appears.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

import regex

__all__ = ["QueryCredentialFilter", "redact", "redact_event"]

_QUERY_CREDENTIAL = regex.compile(
    r"(?i)(?<=[?&](?:apikey|api_key|token|access_token|id_token)=)[^&\s\"'#]+"
)
_API_KEY_SECRET = regex.compile(r"(?<=mk_live_[a-z2-7]{8}_)[A-Za-z0-9_-]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with query credentials and API key secrets replaced by ``[redacted]``."""
    if "=" in text:
        text = _QUERY_CREDENTIAL.sub(REDACTED, text)
    if "mk_live_" in text:
        text = _API_KEY_SECRET.sub(REDACTED, text)
    return text


class QueryCredentialFilter(logging.Filter):
    """A handler filter redacting standard-library records (uvicorn's handshake lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):  # structlog's own records carry an event dict
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def redact_event(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor redacting every string value of an event."""
    for name, value in event.items():
        if isinstance(value, str):
            event[name] = redact(value)
    return event
