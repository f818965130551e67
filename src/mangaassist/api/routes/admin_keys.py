"""Admin API of partner API keys: create (the secret is shown once), list, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mangaassist.api.access_schemas import ApiKeyCreated, ApiKeyCreateRequest, ApiKeyView
from mangaassist.api.admin_auth import AdminDep
from mangaassist.api.deps import ContainerDep
from mangaassist.api.errors import ApiError
from mangaassist.api.schemas import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES)


@router.post("/keys", status_code=201, response_model=ApiKeyCreated)
async def create_key(
    body: ApiKeyCreateRequest, response: Response, _: AdminDep, container: ContainerDep
) -> ApiKeyCreated:
    """Issue a key on a usage plan; the answer is the only place its secret ever appears."""
    plans = container.settings.access_plans
    if body.plan not in plans:
        raise ApiError(422, "PLAN_UNKNOWN", plan=body.plan, plans=", ".join(sorted(plans)))
    record, issued = await container.keys.create(body.name, body.plan)
    response.headers["Cache-Control"] = "no-store"  # a secret: no cache may keep a copy
    return ApiKeyCreated.of(record, issued)


@router.get("/keys", response_model=list[ApiKeyView])
async def list_keys(_: AdminDep, container: ContainerDep) -> list[ApiKeyView]:
    """Every key, revoked ones included, oldest first."""
    return [ApiKeyView.of(record) for record in await container.keys.list()]


@router.delete("/keys/{prefix}", response_model=ApiKeyView)
async def revoke_key(prefix: str, _: AdminDep, container: ContainerDep) -> ApiKeyView:
    """Revoke a key for good; revoking it again changes nothing and answers the same."""
    record = await container.keys.revoke(prefix)
    if record is None:
        raise ApiError(404, "API_KEY_NOT_FOUND", prefix=prefix)
    return ApiKeyView.of(record)
