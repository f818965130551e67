"""The catalog's vocabulary and one series record, validated.

The genre set is the classifier set of the design documents; tags add the finer themes and the
moods customers ask for (泣ける, 笑える, 怖い).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

from mangaassist.domain.isbn import is_valid_isbn13

__all__ = [
    "TAGS",
    "AgeRating",
    "Demographic",
    "Genre",
    "SeriesRecord",
    "SeriesStatus",
    "derive_id",
]

PRODUCT_ID_PATTERN = r"^MNG-[A-Z0-9]{8}$"
_PRODUCT_ID = re.compile(PRODUCT_ID_PATTERN)

#: Turns Japanese text into Hepburn romaji (pykakasi in production, anything in tests).
RomanizeFn = Callable[[str], str]


class Genre(StrEnum):
    """Primary category of a series, as the design documents' classifier names them."""

    SHONEN = "shonen"
    SHOUJO = "shoujo"
    SEINEN = "seinen"
    JOSEI = "josei"
    ISEKAI = "isekai"
    HORROR = "horror"
    SPORTS = "sports"


class Demographic(StrEnum):
    """Readership of the magazine a series runs in."""

    SHONEN = "shonen"
    SHOUJO = "shoujo"
    SEINEN = "seinen"
    JOSEI = "josei"
    KODOMO = "kodomo"


class SeriesStatus(StrEnum):
    """Whether new volumes are still coming."""

    ONGOING = "ongoing"
    COMPLETED = "completed"


class AgeRating(StrEnum):
    """Youngest reader the store sells the series to without a warning."""

    ALL = "all"
    TEEN = "13+"
    MATURE = "16+"
    ADULT = "18+"


TAGS: frozenset[str] = frozenset(
    [
        "action",
        "adventure",
        "comedy",
        "drama",
        "romance",
        "fantasy",
        "dark_fantasy",
        "sci_fi",
        "mystery",
        "thriller",
        "psychological",
        "supernatural",
        "slice_of_life",
        "historical",
        "school",
        "martial_arts",
        "music",
        "cooking",
        "mecha",
        "military",
        "survival",
        "post_apocalyptic",
        "game",
        "reincarnation",
        "magic",
        "monsters",
        "detective",
        "crime",
        "family",
        "coming_of_age",
        "workplace",
        "idol",
        "art",
        "gore",
        "scary",
        "tearjerker",
        "heartwarming",
        "inspiring",
        "iyashikei",
    ]
)

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Synopsis = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


def derive_id(title_ja: str, author_ja: str) -> str:
    """The stable product id of a series: the same title and author always give the same id."""
    digest = hashlib.sha256(f"{title_ja}\x1f{author_ja}".encode()).digest()
    return "MNG-" + base64.b32encode(digest).decode()[:8]


class SeriesRecord(BaseModel):
    """One manga series as the catalog file states it (see docs/catalog-format.md)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    id: str = Field("", description="Empty or absent: derived from titleJa and authorJa.")
    title: NonEmpty
    title_ja: NonEmpty
    title_kana: str = ""
    title_romaji: str = ""
    aliases: tuple[NonEmpty, ...] = ()
    author: NonEmpty
    author_ja: NonEmpty
    author_kana: str = ""
    author_romaji: str = ""
    genre: Genre
    tags: tuple[str, ...] = ()
    demographic: Demographic
    publisher: str = ""
    volumes: Annotated[int, Field(ge=1, le=1000)]
    status: SeriesStatus
    price_jpy: Annotated[int, Field(ge=1, le=1_000_000)]
    stock: Annotated[int, Field(ge=0, le=10_000_000)]
    release_year: Annotated[int, Field(ge=1900, le=2100)]
    age_rating: AgeRating
    synopsis_en: Synopsis
    synopsis_ja: Synopsis
    isbn: str
    isbn_synthetic: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_format(cls, value: object) -> object:
        if value is None or value == "":
            return ""
        if not isinstance(value, str) or not _PRODUCT_ID.match(value):
            raise ValueError("must be MNG- and 8 upper-case letters or digits, or empty")
        return value

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(tags) - TAGS)
        if unknown:
            raise ValueError(f"unknown tags {unknown}; see docs/catalog-format.md")
        return tuple(dict.fromkeys(tags))

    @field_validator("isbn")
    @classmethod
    def _valid_isbn(cls, isbn: str) -> str:
        isbn = isbn.replace("-", "").strip()
        if not is_valid_isbn13(isbn):
            raise ValueError("not an ISBN-13 with a valid check digit")
        return isbn

    def with_derived_fields(self, romanize: RomanizeFn | None = None) -> SeriesRecord:
        """The record with its id and missing readings filled in."""
        updates: dict[str, str] = {}
        if not self.id:
            updates["id"] = derive_id(self.title_ja, self.author_ja)
        if romanize is not None:
            if not self.title_romaji:
                updates["title_romaji"] = romanize(self.title_ja)
            if not self.author_romaji:
                updates["author_romaji"] = romanize(self.author_ja)
        return self.model_copy(update=updates) if updates else self

    @property
    def in_stock(self) -> bool:
        """True when at least one copy can ship."""
        return self.stock > 0
