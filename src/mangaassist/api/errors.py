"""The error envelope of API.md and the handlers that produce it.

Every error is ``{"error": {"code", "message", "details"}, "requestId"}`` with a stable code and a
message in the request's language. Malformed JSON is 400, schema violations 422; anything
unexpected is answered 500 INTERNAL_ERROR by the request-context middleware, which logs it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from mangaassist.api.language import response_language
from mangaassist.api.messages import Language, field_message, message

__all__ = [
    "ApiError",
    "BodyTooLargeError",
    "error_body",
    "install_error_handlers",
    "request_id_of",
    "send_error",
]

_STATUS_CODES = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


class ApiError(Exception):
    """An error a route reports to the client: status, stable code and message parameters."""

    def __init__(
        self,
        status: int,
        code: str,
        *,
        language: Language | None = None,
        headers: Mapping[str, str] | None = None,
        **params: object,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.language = language
        self.headers = headers
        self.params = params


class BodyTooLargeError(StarletteHTTPException):
    """The request body grew past the limit while it was read.

    An HTTPException so that FastAPI's body parsing passes it on instead of turning it into 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.params = {"limit": limit}


def request_id_of(scope: dict[str, Any] | Any) -> str:
    """The request id the request-context middleware assigned."""
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


def error_body(
    code: str,
    language: Language,
    request_id: str,
    details: list[dict[str, Any]] | None = None,
    params: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The JSON of an error response; ``params`` fill the message's placeholders."""
    return {
        "error": {
            "code": code,
            "message": message(code, language, **(params or {})),
            "details": details or [],
        },
        "requestId": request_id,
    }


def _respond(
    request: Request,
    status: int,
    code: str,
    language: Language,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, object] | None = None,
) -> JSONResponse:
    body = error_body(code, language, request_id_of(request.scope), details, params)
    return JSONResponse(body, status_code=status, headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    """``("body", "filters", 0)`` -> ``filters.0``: the first element names where, not what."""
    return ".".join(str(part) for part in loc[1:])


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    body = getattr(exc, "body", None)
    language = response_language(request.headers.get("accept-language"), body)
    if any(err.get("type") == "json_invalid" for err in errors):
        return _respond(request, 400, "MALFORMED_JSON", language)
    details = [
        {
            "field": _field_path(tuple(err.get("loc", ()))),
            "type": err.get("type", "value_error"),
            "message": field_message(
                str(err.get("type")), str(err.get("msg")), language, dict(err.get("ctx") or {})
            ),
        }
        for err in errors
    ]
    return _respond(request, 422, "VALIDATION_ERROR", language, details)


async def _on_api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    language = exc.language or response_language(request.headers.get("accept-language"))
    return _respond(request, exc.status, exc.code, language, headers=exc.headers, params=exc.params)


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    language = response_language(request.headers.get("accept-language"))
    code = _STATUS_CODES.get(exc.status_code, "INTERNAL_ERROR")
    params: dict[str, object] = getattr(exc, "params", {})
    return _respond(request, exc.status_code, code, language, headers=exc.headers, params=params)


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    params: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send an error response straight from ASGI middleware (no route was involved)."""
    extra = headers or {}
    request_headers = dict(scope.get("headers", []))
    language = response_language(request_headers.get(b"accept-language", b"").decode("latin-1"))
    body = json.dumps(
        error_body(code, language, request_id_of(scope), params=params), ensure_ascii=False
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *((name.lower().encode(), value.encode()) for name, value in extra.items()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise to the envelope."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
