"""The admin API's guard: a bearer token from the settings, compared in constant time.

Without ``MANGAASSIST_ADMIN_TOKEN`` the admin API is off (403 ADMIN_DISABLED): the public demo
of ``make run`` exposes no way to change rules. Access control for partners (API keys, JWT)
sits in front of this in a later release; the admin token stays the operators' key.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from mangaassist.api.errors import ApiError

__all__ = ["AdminDep"]


def _require_admin(request: Request) -> None:
    token = request.app.state.container.settings.admin_token
    if token is None:
        raise ApiError(403, "ADMIN_DISABLED")
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    expected = token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), expected):
        raise ApiError(401, "ADMIN_UNAUTHORIZED", headers={"WWW-Authenticate": "Bearer"})


AdminDep = Annotated[None, Depends(_require_admin)]
