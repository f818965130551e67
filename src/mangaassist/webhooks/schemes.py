"""Signature schemes of inbound webhooks: pure functions of headers, raw body, secrets and now.

Each ``verify_*`` returns quietly for an authentic delivery and raises ``WebhookAuthError`` (an
``InvalidSignatureError``) with a stable ``code`` otherwise. Several secrets may be active at once
(rotation): a delivery is authentic if any of them verifies it. Every comparison is constant-time
(``hmac.compare_digest``), and only the raw body is ever signed, never re-serialized JSON.

The signature is checked before the timestamp, so ``WEBHOOK_TIMESTAMP_STALE`` is only ever said
to a sender who proved it holds a secret (its clock, or a replay, is the problem); anyone else
hears ``WEBHOOK_SIGNATURE_INVALID``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence

from mangaassist.webhooks import signing
from mangaassist.webhooks.signing import InvalidSignatureError

__all__ = [
    "SIGNATURE_INVALID",
    "SIGNATURE_MISSING",
    "TIMESTAMP_INVALID",
    "TIMESTAMP_STALE",
    "TOLERANCE_S",
    "WebhookAuthError",
    "github_signature",
    "hmac_sha256_signature",
    "stripe_signature_header",
    "verify_github",
    "verify_hmac_sha256",
    "verify_standard",
    "verify_stripe",
]

#: Replay window of every timestamped scheme (Stripe's default and Standard Webhooks': 5 min).
TOLERANCE_S = signing.TOLERANCE_S

SIGNATURE_MISSING = "WEBHOOK_SIGNATURE_MISSING"
SIGNATURE_INVALID = "WEBHOOK_SIGNATURE_INVALID"
TIMESTAMP_INVALID = "WEBHOOK_TIMESTAMP_INVALID"
TIMESTAMP_STALE = "WEBHOOK_TIMESTAMP_STALE"


class WebhookAuthError(InvalidSignatureError):
    """A delivery that is not authentic or not fresh; ``code`` is one of the codes above."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _required(headers: Mapping[str, str], *names: str) -> list[str]:
    values = [headers.get(name.lower(), "").strip() for name in names]
    if not all(values):
        raise WebhookAuthError(SIGNATURE_MISSING, f"missing header(s): {', '.join(names)}")
    return values


def _timestamp(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise WebhookAuthError(TIMESTAMP_INVALID, "the timestamp is not Unix seconds")
    return int(text)


def _check_fresh(timestamp: int, now: float, tolerance_s: float) -> None:
    if abs(now - timestamp) > tolerance_s:
        raise WebhookAuthError(
            TIMESTAMP_STALE, f"the timestamp is more than {tolerance_s:g} s from now"
        )


def _hex_hmac(secret: str, content: bytes) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


def _any_match(expected: Iterable[str], given: Sequence[str]) -> bool:
    # Every pair is compared (no early exit on the first secret) so the time taken does not say
    # which secret matched; compare_digest keeps each comparison constant-time.
    matched = False
    for want in expected:
        for candidate in given:
            matched |= hmac.compare_digest(want.encode(), candidate.encode())
    return matched


def stripe_signature_header(secret: str, body: bytes, timestamp: int) -> str:
    """A ``Stripe-Signature`` value: ``t=<ts>,v1=<hex HMAC-SHA256 of "{ts}.{body}">``."""
    return f"t={timestamp},v1={_hex_hmac(secret, f'{timestamp}.'.encode() + body)}"


def verify_stripe(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> None:
    """Stripe: ``Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]``.

    The key is the whole ``whsec_...`` string as UTF-8 (Stripe does not base64-decode it). Any
    ``v1`` may match (Stripe signs with every active secret while one is rolled); ``v0`` (test
    mode's legacy scheme) and unknown elements are ignored.
    """
    (header,) = _required(_lower(headers), "Stripe-Signature")
    stamps: list[str] = []
    given: list[str] = []
    for element in header.split(","):
        name, _, value = element.strip().partition("=")
        if name == "t":
            stamps.append(value)
        elif name == "v1" and value:
            given.append(value.lower())
    if not stamps or not given:
        raise WebhookAuthError(SIGNATURE_MISSING, "Stripe-Signature lacks t= or v1=")
    if len(stamps) > 1:
        raise WebhookAuthError(TIMESTAMP_INVALID, "Stripe-Signature has several t=")
    timestamp = _timestamp(stamps[0])
    content = f"{timestamp}.".encode() + body
    if not _any_match((_hex_hmac(secret, content) for secret in secrets), given):
        raise WebhookAuthError(SIGNATURE_INVALID, "no v1 signature matches")
    _check_fresh(timestamp, now, tolerance_s)


def hmac_sha256_signature(secret: str, body: bytes, timestamp: int) -> str:
    """The signature of the generic scheme: hex HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    return _hex_hmac(secret, f"{timestamp}.".encode() + body)


def verify_hmac_sha256(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    signature_header: str = "X-Webhook-Signature",
    timestamp_header: str = "X-Webhook-Timestamp",
    tolerance_s: float = TOLERANCE_S,
) -> None:
    """Generic HMAC-SHA256: a hex signature (``sha256=`` prefix allowed) of
    ``"{timestamp}.{raw body}"`` in ``signature_header``, Unix seconds in ``timestamp_header``,
    the secret used as UTF-8 bytes. Signing the timestamp stops a replay with a fresh one."""
    signature, stamp = _required(_lower(headers), signature_header, timestamp_header)
    timestamp = _timestamp(stamp)
    given = signature.removeprefix("sha256=").lower()
    content = f"{timestamp}.".encode() + body
    if not _any_match((_hex_hmac(secret, content) for secret in secrets), [given]):
        raise WebhookAuthError(SIGNATURE_INVALID, f"{signature_header} does not match")
    _check_fresh(timestamp, now, tolerance_s)


def github_signature(secret: str, body: bytes) -> str:
    """GitHub's ``X-Hub-Signature-256`` value: ``sha256=`` + hex HMAC-SHA256 of the body."""
    return "sha256=" + _hex_hmac(secret, body)


def verify_github(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> None:
    """GitHub: ``X-Hub-Signature-256: sha256=<hex>`` over the raw body.

    GitHub signs no timestamp, so nothing here stops a replay: the receiver's idempotency key,
    ``X-GitHub-Delivery`` (the same on a redelivery), does.
    """
    (signature,) = _required(_lower(headers), "X-Hub-Signature-256")
    if not signature.startswith("sha256="):
        raise WebhookAuthError(SIGNATURE_INVALID, "X-Hub-Signature-256 is not sha256=<hex>")
    given = signature.removeprefix("sha256=").lower()
    if not _any_match((_hex_hmac(secret, body) for secret in secrets), [given]):
        raise WebhookAuthError(SIGNATURE_INVALID, "X-Hub-Signature-256 does not match")


def verify_standard(
    headers: Mapping[str, str],
    body: bytes,
    secrets: Sequence[str],
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> None:
    """Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``), the
    scheme our own callbacks use; ``signing.verify`` checks each secret's signature."""
    lower = _lower(headers)
    _, stamp, _ = _required(lower, "webhook-id", "webhook-timestamp", "webhook-signature")
    timestamp = _timestamp(stamp)
    authentic = False
    for secret in secrets:
        try:
            # ``now`` is the delivery's own timestamp: signing.verify checks the signature only,
            # and freshness is checked below, after authenticity (see the module docstring).
            signing.verify(secret, lower, body, now=timestamp, tolerance_s=0)
        except InvalidSignatureError:
            continue
        authentic = True
    if not authentic:
        raise WebhookAuthError(SIGNATURE_INVALID, "no webhook-signature matches")
    _check_fresh(timestamp, now, tolerance_s)
