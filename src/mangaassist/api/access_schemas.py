"""Request and response bodies of the API key admin API (camelCase JSON).

A key's secret appears in one body only, :class:`ApiKeyCreated`; listings show prefixes and
never hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from mangaassist.access.keyring import ApiKeyRecord
from mangaassist.access.keys import IssuedKey
from mangaassist.api.schemas import ApiModel

__all__ = [
    "DEFAULT_PLAN",
    "MAX_KEY_NAME_LENGTH",
    "ApiKeyCreateRequest",
    "ApiKeyCreated",
    "ApiKeyView",
]

#: Usage plan of a key created without one (present in the default ``access_plans``).
DEFAULT_PLAN = "standard"
#: Longest key name: enough for "partner - environment - purpose", short enough for a table.
MAX_KEY_NAME_LENGTH = 100

KeyName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEY_NAME_LENGTH)
]


class ApiKeyCreateRequest(ApiModel):
    """A new key for a partner."""

    name: KeyName = Field(description="Who or what the key is for, shown in listings.")
    plan: str = Field(DEFAULT_PLAN, description="Usage plan, one of `access_plans`.")


class ApiKeyCreated(ApiModel):
    """The new key: ``apiKey`` is shown here once and never again (only its hash is kept)."""

    prefix: str = Field(examples=["abcd2345"])
    api_key: str = Field(
        description="The whole key, sent as `X-Api-Key`; store it now, it is not shown again."
    )
    name: str
    plan: str
    created_at: datetime

    @classmethod
    def of(cls, record: ApiKeyRecord, issued: IssuedKey) -> ApiKeyCreated:
        """The answer to a creation."""
        return cls(
            prefix=record.prefix,
            api_key=issued.api_key,
            name=record.name,
            plan=record.plan,
            created_at=record.created_at,
        )


class ApiKeyView(ApiModel):
    """A key as listings show it: no secret, no hash."""

    prefix: str = Field(examples=["abcd2345"])
    name: str
    plan: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Last authenticated use, to within a minute.")
    active: bool = Field(description="False once revoked.")

    @classmethod
    def of(cls, record: ApiKeyRecord) -> ApiKeyView:
        """The listing view of a record."""
        return cls(
            prefix=record.prefix,
            name=record.name,
            plan=record.plan,
            created_at=record.created_at,
            revoked_at=record.revoked_at,
            last_used_at=record.last_used_at,
            active=record.active,
        )
