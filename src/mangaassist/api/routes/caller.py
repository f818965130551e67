"""``GET /v1/me``: who access control takes the caller for (partners check keys and tokens)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field

from mangaassist.api.deps import PrincipalDep
from mangaassist.api.schemas import ERROR_RESPONSES, ApiModel

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["access"], responses=ERROR_RESPONSES)


class Caller(ApiModel):
    """The caller as access control identified it."""

    kind: str = Field(description="`anonymous`, `api_key` or `token`.")
    subject: str = Field(description="`key:<prefix>` for API keys, the token's `sub`.")
    plan: str | None = Field(description="The usage plan requests are counted against.")
    claims: dict[str, Any] = Field(
        description="A token's verified claims, or the key's prefix, name and plan."
    )


@router.get("/me", response_model=Caller)
async def who_am_i(principal: PrincipalDep) -> Caller:
    """The caller behind this request's key or token; needs credentials when access control
    is on (anonymous otherwise)."""
    return Caller(
        kind=str(principal.kind),
        subject=principal.subject,
        plan=principal.plan,
        claims=dict(principal.claims),
    )
