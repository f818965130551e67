"""Recommendations without a chat message: by genre, by liked series, for a conversation."""

from __future__ import annotations

from fastapi import APIRouter, Request

from mangaassist.api.chat_schemas import RecommendRequest, RecommendResponse
from mangaassist.api.deps import ContainerDep
from mangaassist.api.language import response_language
from mangaassist.api.schemas import ERROR_RESPONSES, Product
from mangaassist.chat.planner import ConversationContext
from mangaassist.chat.recommend import recommend as pick

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["chat"], responses=ERROR_RESPONSES)


@router.post("/recommend", response_model=RecommendResponse)
async def recommend(
    body: RecommendRequest, request: Request, container: ContainerDep
) -> RecommendResponse:
    """Series like the ones liked (in the genre, if given), excluding what the chat showed."""
    view = await container.chat.catalog_view()
    liked = [view.by_id[i] for i in body.liked_ids if i in view.by_id]
    shown: tuple[str, ...] = ()
    if body.session_id:
        session = await container.store.get_session(body.session_id)
        if session is not None:
            shown = ConversationContext.of(session.turns).shown_ids
    products = pick(
        view.records,
        genre=body.genre,
        similar_to=liked[0] if liked else None,
        exclude_ids={*shown, *(r.id for r in liked)},
        limit=body.limit,
    )
    japanese = response_language(request.headers.get("accept-language")) == "ja"
    if liked:
        reason = (
            f"『{liked[0].title_ja}』に近い作品です。"
            if japanese
            else f'Similar to "{liked[0].title}".'
        )
    elif body.genre:
        reason = (
            f"{body.genre.value}ジャンルの人気作品です。"
            if japanese
            else f"Popular {body.genre.value} series."
        )
    else:
        reason = "幅広いジャンルの人気作品です。" if japanese else "Popular series across genres."
    return RecommendResponse(products=[Product.of(p) for p in products], reason=reason)
