"""Catalog search and product lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from mangaassist.api.deps import CatalogDep
from mangaassist.api.enrichment_schemas import ProductDetail
from mangaassist.api.errors import ApiError
from mangaassist.api.schemas import (
    ERROR_RESPONSES,
    PRODUCT_ID_PATTERN,
    ErrorResponse,
    Product,
    SearchRequest,
    SearchResponse,
)
from mangaassist.catalog.index import SearchFilters

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["catalog"], responses=ERROR_RESPONSES)


@router.post("/search", response_model=SearchResponse, response_model_by_alias=True)
async def search(request: SearchRequest, catalog: CatalogDep) -> SearchResponse:
    """Search the catalog in Japanese (kanji, kana, half-width), romaji or English."""
    filters = SearchFilters(
        genre=request.genre,
        in_stock=request.in_stock,
        min_price_jpy=request.min_price_jpy,
        max_price_jpy=request.max_price_jpy,
    )
    result = await catalog.search(request.query, filters, request.limit)
    return SearchResponse(
        query=request.query,
        total=result.total,
        corrections=result.corrections,
        results=[Product.of(hit.record) for hit in result.hits],
    )


@router.get(
    "/catalog/{mangaId}",
    response_model=ProductDetail,
    response_model_by_alias=True,
    responses={
        404: {"model": ErrorResponse, "description": "No such product (PRODUCT_NOT_FOUND)."}
    },
)
async def get_product(
    manga_id: Annotated[str, Path(alias="mangaId", pattern=PRODUCT_ID_PATTERN)],
    catalog: CatalogDep,
) -> ProductDetail:
    """One product by id, with its enrichment (synopsis, tags, recommendations) when stored."""
    record = await catalog.get(manga_id)
    if record is None:
        raise ApiError(404, "PRODUCT_NOT_FOUND", id=manga_id)
    return ProductDetail.with_enrichment(record, await catalog.enrichment(manga_id))
