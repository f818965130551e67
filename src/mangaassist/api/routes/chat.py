"""Chat routes: the customer chat and the partner query API. Answers are never HTTP-cached."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response

from mangaassist.api.chat_schemas import (
    ChatRequest,
    ChatResponse,
    MangaQueryRequest,
    render_answer,
)
from mangaassist.api.deps import ChatDep
from mangaassist.api.errors import ApiError, request_id_of
from mangaassist.api.language import response_language
from mangaassist.api.messages import Language
from mangaassist.api.schemas import ERROR_RESPONSES, ErrorResponse
from mangaassist.chat.answer import ChatAnswer, ChatQuestion
from mangaassist.chat.service import ChatService
from mangaassist.domain.catalog import PRODUCT_ID_PATTERN
from mangaassist.domain.routing import TokenBudgetExceeded
from mangaassist.text.validate import MessageRejected

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["chat"], responses=ERROR_RESPONSES)

NO_STORE = {"Cache-Control": "no-store"}
_CHAT_ERRORS: dict[int | str, dict[str, object]] = {
    422: {
        "model": ErrorResponse,
        "description": "Schema error, or a content rule: EMPTY_MESSAGE, MESSAGE_TOO_LONG, "
        "MESSAGE_TOO_LARGE, CONTROL_CHARACTERS, INVALID_UNICODE, TOKEN_BUDGET_EXCEEDED.",
    }
}


async def _answer(
    chat: ChatService, question: ChatQuestion, request: Request, language: Language
) -> ChatAnswer:
    try:
        return await chat.answer(question, request_id_of(request.scope))
    except MessageRejected as exc:
        raise ApiError(422, exc.code, language=language, headers=NO_STORE, **exc.params) from None
    except TokenBudgetExceeded as exc:
        raise ApiError(
            422,
            "TOKEN_BUDGET_EXCEEDED",
            language=language,
            headers=NO_STORE,
            tokens=exc.tokens,
            limit=exc.limit,
        ) from None


def _response(answer: ChatAnswer) -> Response:
    """The answer as JSON, serialized once (returning a Response skips FastAPI's re-validation;
    the OpenAPI schema still comes from ``response_model``)."""
    body = json.dumps(render_answer(answer), ensure_ascii=False, separators=(",", ":"))
    return Response(body, media_type="application/json", headers=NO_STORE)


@router.post("/chat", response_model=ChatResponse, responses=_CHAT_ERRORS)
async def chat(body: ChatRequest, request: Request, chat: ChatDep) -> Response:
    """Answer a customer message in Japanese or English, grounded in the catalog."""
    language = response_language(
        request.headers.get("accept-language"), body.model_dump(by_alias=True)
    )
    question = ChatQuestion(
        message=body.message,
        session_id=body.session_id,
        preferred_language=body.preferred_language,
        model_preference=body.model_preference,
    )
    return _response(await _answer(chat, question, request, language))


@router.post("/manga/query", response_model=ChatResponse, responses=_CHAT_ERRORS)
async def manga_query(body: MangaQueryRequest, request: Request, chat: ChatDep) -> Response:
    """Partner API: the design documents' ``manga_query`` schema, answered like a chat message.

    ``model`` sonnet/haiku picks the quality/fast tier; ``conversation_id`` (or
    ``context.session_id``) continues a conversation; ``context.previous_manga`` (product ids)
    are series the reader already has, so they are not recommended again.
    """
    import regex

    context = body.context
    session_id = (context.session_id if context else None) or (
        str(body.conversation_id) if body.conversation_id else None
    )
    id_pattern = regex.compile(PRODUCT_ID_PATTERN)
    read = tuple(m for m in (context.previous_manga if context else []) if id_pattern.match(m))
    language = response_language(
        request.headers.get("accept-language"),
        {
            "query": body.query,
            **({"preferredLanguage": body.language} if body.language != "auto" else {}),
        },
    )
    question = ChatQuestion(
        message=body.query,
        session_id=session_id,
        preferred_language=body.language,
        model_preference="quality" if body.model == "sonnet" else "fast",
        max_tokens=body.max_tokens,
        temperature=body.temperature,
        exclude_ids=read,
    )
    return _response(await _answer(chat, question, request, language))
