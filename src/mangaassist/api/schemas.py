"""Request and response bodies of the public API (camelCase JSON)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from mangaassist.domain.catalog import (
    PRODUCT_ID_PATTERN,
    AgeRating,
    Demographic,
    Genre,
    SeriesRecord,
    SeriesStatus,
)

__all__ = [
    "ERROR_RESPONSES",
    "PRODUCT_ID_PATTERN",
    "ApiModel",
    "ErrorResponse",
    "Health",
    "Product",
    "Readiness",
    "SearchRequest",
    "SearchResponse",
]

#: Most results one search returns.
SEARCH_MAX_LIMIT = 100


class ApiModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown request keys are rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Product(ApiModel):
    """A manga series as the store sells it."""

    id: Annotated[str, Field(examples=["MNG-ABCD2345"])]
    title: str
    title_ja: str
    title_kana: str
    title_romaji: str
    author: str
    author_ja: str
    genre: Genre
    tags: list[str]
    demographic: Demographic
    publisher: str
    volumes: int
    status: SeriesStatus
    price_jpy: int
    in_stock: bool
    stock: int
    isbn: str
    isbn_synthetic: bool = Field(description="True when the ISBN is made up (valid check digit).")
    release_year: int
    rating: AgeRating = Field(description="Age rating.")
    synopsis_en: str
    synopsis_ja: str

    @classmethod
    def of(cls, record: SeriesRecord) -> Product:
        """The API view of a catalog record."""
        return cls(
            id=record.id,
            title=record.title,
            title_ja=record.title_ja,
            title_kana=record.title_kana,
            title_romaji=record.title_romaji,
            author=record.author,
            author_ja=record.author_ja,
            genre=record.genre,
            tags=list(record.tags),
            demographic=record.demographic,
            publisher=record.publisher,
            volumes=record.volumes,
            status=record.status,
            price_jpy=record.price_jpy,
            in_stock=record.in_stock,
            stock=record.stock,
            isbn=record.isbn,
            isbn_synthetic=record.isbn_synthetic,
            release_year=record.release_year,
            rating=record.age_rating,
            synopsis_en=record.synopsis_en,
            synopsis_ja=record.synopsis_ja,
        )


class SearchRequest(ApiModel):
    """A catalog search: words in Japanese (any script or width), romaji or English."""

    query: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        Field(examples=["鬼滅", "ﾜﾝﾋﾟｰｽ", "kimetsu no yaiba", "oda eiichiro"]),
    ]
    genre: Genre | None = None
    in_stock: bool | None = Field(None, description="Only series in stock (true) or sold out.")
    min_price_jpy: Annotated[int, Field(ge=0)] | None = None
    max_price_jpy: Annotated[int, Field(ge=0)] | None = None
    limit: Annotated[int, Field(ge=1, le=SEARCH_MAX_LIMIT)] = 10


class SearchResponse(ApiModel):
    """The best matches, best first."""

    query: str
    total: int = Field(description="Series that matched, before `limit`.")
    corrections: dict[str, str] = Field(description="Typos corrected: typed word -> word used.")
    results: list[Product]


class BackendState(ApiModel):
    """One backend as readiness sees it."""

    backend: str
    status: str
    detail: dict[str, int | str] = Field(default_factory=dict)


class Readiness(ApiModel):
    """Whether this process can serve, and each backend's state."""

    status: str
    backends: dict[str, BackendState]


class Health(ApiModel):
    """Liveness: the process answers."""

    status: str
    version: str


class ErrorDetail(ApiModel):
    """One problem with one field of the request."""

    field: str = Field(description="Dotted path of the field, e.g. `query` or `items.0.id`.")
    type: str = Field(description="Machine-readable kind of problem (pydantic's error type).")
    message: str = Field(description="Localized explanation.")


class ErrorInfo(ApiModel):
    """What went wrong: a stable code and a message in the request's language."""

    code: str = Field(examples=["VALIDATION_ERROR"])
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(ApiModel):
    """The body of every error response."""

    error: ErrorInfo
    request_id: str = Field(description="Same as the X-Request-Id response header.")


def _error(description: str) -> dict[str, object]:
    return {"model": ErrorResponse, "description": description}


#: Errors any API route can answer; routes add their own (404 and so on).
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    400: _error("Malformed JSON (MALFORMED_JSON)."),
    413: _error("Body larger than the limit (PAYLOAD_TOO_LARGE)."),
    422: _error("The request breaks the schema or a content rule (VALIDATION_ERROR)."),
    500: _error("A bug on our side (INTERNAL_ERROR)."),
}
