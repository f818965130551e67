"""Configured inbound webhook sources: who may post to ``/webhooks/{source}`` and how it signs.

``MANGAASSIST_WEBHOOK_SOURCES`` is a JSON object of source name -> ``WebhookSource``, e.g.
``{"stripe": {"scheme": "stripe", "secrets": ["whsec_..."], "handler": "stripe"}}``. A source
that is not configured does not exist (404), so nothing is ever accepted unauthenticated.
Secrets are ``SecretStr``: they never reach logs, reprs or error messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from mangaassist.webhooks.schemes import (
    TOLERANCE_S,
    verify_github,
    verify_hmac_sha256,
    verify_standard,
    verify_stripe,
)
from mangaassist.webhooks.signing import decode_secret

__all__ = ["SOURCE_NAME_PATTERN", "HandlerName", "SchemeName", "SourceName", "WebhookSource"]

SchemeName = Literal["stripe", "hmac-sha256", "github", "standard"]
HandlerName = Literal["stripe", "reviews", "catalog", "none"]

#: What a source may be called: it is the last segment of the webhook URL.
SOURCE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
SourceName = Annotated[str, StringConstraints(pattern=SOURCE_NAME_PATTERN)]

#: The header carrying the sender's own delivery id, the same on every redelivery: the best
#: idempotency key there is (GitHub signs no timestamp, so it is its only replay protection).
_DELIVERY_ID_HEADERS: dict[str, str] = {"github": "X-GitHub-Delivery", "standard": "webhook-id"}


class WebhookSource(BaseModel):
    """One sender: its signature scheme, its active secrets and what handles its deliveries."""

    # A validation error must not quote the input: it holds the secrets (``Settings`` hides
    # inputs too, which is what counts when the source is read from the environment).
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    scheme: SchemeName = Field(description="How deliveries are signed.")
    secrets: Annotated[list[SecretStr], Field(min_length=1)] = Field(
        description="Active secrets, newest first; a delivery verified by any one is authentic "
        "(add the new secret, let the sender switch, then drop the old one)."
    )
    handler: HandlerName = Field(description="What a verified delivery does.")
    signature_header: str | None = Field(
        None, description="`hmac-sha256` only: the signature header (`X-Webhook-Signature`)."
    )
    timestamp_header: str | None = Field(
        None, description="`hmac-sha256` only: the timestamp header (`X-Webhook-Timestamp`)."
    )
    tolerance_s: Annotated[int, Field(ge=1, le=3600)] = Field(
        TOLERANCE_S, description="Replay window: most seconds between the timestamp and now."
    )

    @model_validator(mode="after")
    def _check(self) -> WebhookSource:
        if self.scheme != "hmac-sha256" and (self.signature_header or self.timestamp_header):
            raise ValueError("signature_header and timestamp_header are for `hmac-sha256` only")
        for secret in self.secrets:
            value = secret.get_secret_value()
            if not value.strip():
                raise ValueError("a webhook secret must not be empty")
            if self.scheme == "standard":
                decode_secret(value)  # whsec_ + base64 of at least 16 bytes
        return self

    @property
    def delivery_id_header(self) -> str | None:
        """The header holding the sender's delivery id (the idempotency key), if the scheme
        has one."""
        return _DELIVERY_ID_HEADERS.get(self.scheme)

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float) -> None:
        """Raise ``WebhookAuthError`` unless ``body`` is an authentic, fresh delivery."""
        secrets = [secret.get_secret_value() for secret in self.secrets]
        if self.scheme == "stripe":
            verify_stripe(headers, body, secrets, now=now, tolerance_s=self.tolerance_s)
        elif self.scheme == "hmac-sha256":
            verify_hmac_sha256(
                headers,
                body,
                secrets,
                now=now,
                signature_header=self.signature_header or "X-Webhook-Signature",
                timestamp_header=self.timestamp_header or "X-Webhook-Timestamp",
                tolerance_s=self.tolerance_s,
            )
        elif self.scheme == "github":
            verify_github(headers, body, secrets)
        else:
            verify_standard(headers, body, secrets, now=now, tolerance_s=self.tolerance_s)
