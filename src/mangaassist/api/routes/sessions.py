"""Conversation history: read it, or forget it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from mangaassist.api.chat_schemas import SESSION_ID_PATTERN, SessionMessage, SessionMessages
from mangaassist.api.deps import ContainerDep
from mangaassist.api.errors import ApiError
from mangaassist.api.schemas import ERROR_RESPONSES, ErrorResponse

__all__ = ["router"]

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], responses=ERROR_RESPONSES)

SessionIdPath = Annotated[str, Path(alias="sessionId", pattern=SESSION_ID_PATTERN)]
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorResponse, "description": "Unknown or expired session (SESSION_NOT_FOUND)."}
}


@router.get("/{sessionId}/messages", response_model=SessionMessages, responses=_NOT_FOUND)
async def messages(
    session_id: SessionIdPath, container: ContainerDep, response: Response
) -> SessionMessages:
    """The conversation's messages, oldest first."""
    response.headers["Cache-Control"] = "no-store"
    session = await container.store.get_session(session_id)
    idle = container.chat.config.session_idle
    if session is None or session.is_expired(datetime.now(UTC), idle):
        raise ApiError(404, "SESSION_NOT_FOUND", id=session_id)
    return SessionMessages(
        session_id=session_id,
        messages=[
            SessionMessage(
                role=turn.role.value,
                text=turn.text,
                created_at=turn.created_at.isoformat(),
                language=turn.language,
                intent=turn.intent,
                product_ids=list(turn.product_ids),
                cancelled=turn.cancelled,
            )
            for turn in session.turns
        ],
    )


@router.delete("/{sessionId}", status_code=204, responses=_NOT_FOUND)
async def delete(session_id: SessionIdPath, container: ContainerDep) -> Response:
    """Forget the conversation and its messages."""
    if not await container.store.delete_session(session_id):
        raise ApiError(404, "SESSION_NOT_FOUND", id=session_id)
    return Response(status_code=204)
