"""What the assistant decided to do with a message, before any model speaks.

A plan is the grounding of an answer: the intent, the language, and the catalog series the answer
may talk about. The offline responder renders it directly; real models receive it in their prompt.
Nothing outside ``products`` (and ``focus``) may be named, so answers stay true to the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mangaassist.domain.catalog import Genre, SeriesRecord

__all__ = ["Intent", "Plan"]


class Intent(StrEnum):
    """What the customer wants."""

    RECOMMEND = "recommend"  #: suggestions by genre, mood, similarity or in general
    TITLE_INFO = "title_info"  #: author, volumes, story of one series
    STOCK_PRICE = "stock_price"  #: is it in stock, what does it cost
    AUTHOR_WORKS = "author_works"  #: series by one author
    SHIPPING = "shipping"  #: delivery fees and times
    RETURNS = "returns"  #: returns, exchanges, refunds
    PAYMENT = "payment"  #: payment methods
    GREETING = "greeting"
    THANKS = "thanks"
    OUT_OF_SCOPE = "out_of_scope"  #: not about manga or the store: a polite redirect
    UNKNOWN = "unknown"  #: too vague to act on: a clarifying question


@dataclass(frozen=True, slots=True)
class Plan:
    """The decision for one message; see the module docstring."""

    intent: Intent
    language: str
    products: tuple[SeriesRecord, ...] = ()
    focus: SeriesRecord | None = None
    volume: int | None = None
    latest_volume: bool = False
    author: str = ""
    author_en: str = ""
    genre: Genre | None = None
    tag: str = ""
    similar_to: SeriesRecord | None = None
    follow_up: bool = False
    used_context: bool = False
    needs_title: bool = False
