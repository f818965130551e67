"""Standard Webhooks signatures (https://www.standardwebhooks.com), for both directions.

A delivery carries ``webhook-id`` (the message id, the same on every retry, for the receiver's
deduplication), ``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, several separated by spaces while a
secret is being rotated. Secrets are ``whsec_<base64 of the key>``. Pure functions: the callback
sender signs with them, and inbound webhooks verify with them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

__all__ = [
    "SECRET_PREFIX",
    "TOLERANCE_S",
    "InvalidSignatureError",
    "decode_secret",
    "new_secret",
    "sign",
    "signed_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
#: How far a timestamp may be from now (replay window of the specification: 5 minutes).
TOLERANCE_S = 300
#: Key length of generated secrets: 32 bytes, as long as the HMAC-SHA256 output.
_KEY_BYTES = 32
_MIN_KEY_BYTES = 16


class InvalidSignatureError(ValueError):
    """The delivery is not authentic: wrong signature, stale timestamp or missing header."""


def new_secret() -> str:
    """A fresh random secret, ``whsec_`` + base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_KEY_BYTES)).decode()


def decode_secret(secret: str) -> bytes:
    """The key of a ``whsec_`` secret (the prefix may be omitted). Raises ``ValueError`` for
    text that is not base64 or a key shorter than 16 bytes."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a webhook secret is `whsec_` followed by base64") from None
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"a webhook secret's key must be at least {_MIN_KEY_BYTES} bytes")
    return key


def _signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``webhook-signature`` value of one message."""
    raw = body.encode() if isinstance(body, str) else body
    return _signature(decode_secret(secret), msg_id, timestamp, raw)


def signed_headers(
    secret: str, msg_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for sending ``body`` now (or at ``timestamp``)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes | str,
    *,
    now: float | None = None,
    tolerance_s: int = TOLERANCE_S,
) -> None:
    """Raise ``InvalidSignatureError`` unless ``headers`` sign ``body`` with ``secret``.

    ``headers`` keys are matched case-insensitively. Any one ``v1`` signature of the
    space-separated list may match (rotation); the comparison is constant-time.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    given = lower.get("webhook-signature")
    if not msg_id or not stamp or not given:
        raise InvalidSignatureError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignatureError("webhook-timestamp is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise InvalidSignatureError("webhook-timestamp is outside the tolerance window")
    raw = body.encode() if isinstance(body, str) else body
    expected = _signature(decode_secret(secret), msg_id, timestamp, raw)
    for candidate in given.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate, expected):
            return
    raise InvalidSignatureError("no signature matches")
