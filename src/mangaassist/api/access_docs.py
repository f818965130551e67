"""Access control in the OpenAPI document: the two credentials and their error answers.

SDK generators read ``securitySchemes`` to add the key header or bearer token to every call;
``{}`` among a ``/v1`` route's requirements says it also works without (access control off, or
an anonymous chat route).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

__all__ = ["ACCESS_RESPONSES", "SECURITY_SCHEMES", "document_access"]

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "ApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "A partner key `mk_live_<prefix>_<secret>` (`mangaassist keys create`).",
    },
    "Bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT (HS256, or RS256 from the configured JWKS).",
    },
}

#: What ``/v1`` routes answer when access control is on, by status.
ACCESS_RESPONSES: dict[str, str] = {
    "401": "Missing or invalid credentials (UNAUTHENTICATED, API_KEY_INVALID, TOKEN_INVALID, "
    "TOKEN_EXPIRED); only with access control on.",
    "403": "Valid credentials that may not be used (API_KEY_REVOKED, API_KEY_PLAN_UNKNOWN).",
    "429": "Over the rate, burst or a route throttle (RATE_LIMITED), or the quota is used up "
    "(QUOTA_EXCEEDED); see `Retry-After` and `X-RateLimit-*`.",
}
_ERROR_SCHEMA = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}


def document_access(app: FastAPI) -> None:
    """Add the security schemes, requirements and error answers of ``/v1`` routes to
    ``app.openapi()``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema.get("paths", {}).items():
            if not path.startswith("/v1/"):
                continue
            for operation in operations.values():
                operation["security"] = [{"ApiKey": []}, {"Bearer": []}, {}]
                responses = operation.setdefault("responses", {})
                for status, description in ACCESS_RESPONSES.items():
                    responses.setdefault(
                        status, {"description": description, "content": _ERROR_SCHEMA}
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
