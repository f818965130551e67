"""Deciding the intent of a message from its signals and the names it mentions.

Rules in a fixed priority: store policy questions first (they are unambiguous), then stock and
price, recommendations, an author's works, a series' details, small talk, and finally the polite
redirect (out of scope) or the clarifying question (unknown).
"""

from __future__ import annotations

from dataclasses import dataclass

from mangaassist.chat.plan import Intent
from mangaassist.chat.signals import find_genre, find_tag, find_volume, has_signal
from mangaassist.chat.signals import mentions_latest_volume as latest_in

__all__ = ["Reading", "classify"]

#: A message shorter than this (folded characters) with no signal is too vague to redirect.
VAGUE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Reading:
    """What the message says, before session context is applied."""

    intent: Intent
    has_title: bool
    has_author: bool
    refers_back: bool  #: "その", "it": the subject is in an earlier turn
    asks_for_others: bool  #: "他には？", "any others?"


def classify(folded: str, *, titles: int, authors: int, has_topic: bool = False) -> Reading:
    """The intent of a folded message that names ``titles`` series and ``authors`` authors.

    ``has_topic`` says the conversation is already about one series, so a question about a
    series' details ("who is the author?", "what about the latest volume?") refers to it.
    """
    signal = {name: has_signal(folded, name) for name in (
        "shipping", "returns", "payment", "stock", "have", "recommend", "ask", "others",
        "author_works", "title_info", "greeting", "thanks", "manga", "context", "out_of_scope",
    )}  # fmt: skip
    genre_or_mood = bool(find_genre(folded) or find_tag(folded))
    about_manga = bool(titles or authors or signal["manga"] or genre_or_mood)
    asks_details = signal["title_info"] or signal["stock"] or signal["have"]
    about_series = asks_details or find_volume(folded) is not None or latest_in(folded)
    refers_back = not titles and (signal["context"] or (has_topic and about_series))
    others = signal["others"] and not titles and not authors

    def reading(intent: Intent) -> Reading:
        return Reading(intent, titles > 0, authors > 0, refers_back, others)

    for policy, intent in (("returns", Intent.RETURNS), ("payment", Intent.PAYMENT),
                           ("shipping", Intent.SHIPPING)):  # fmt: skip
        if signal[policy] and not titles:
            return reading(intent)
    if signal["out_of_scope"] and not (titles or authors):
        return reading(Intent.OUT_OF_SCOPE)
    volume = find_volume(folded) is not None or latest_in(folded)
    subject = titles or refers_back
    if signal["stock"] and (subject or volume or not signal["recommend"]):
        return reading(Intent.STOCK_PRICE)
    wants_stock = (titles and (volume or not signal["title_info"])) or (refers_back and volume)
    if signal["have"] and wants_stock and not signal["recommend"]:
        return reading(Intent.STOCK_PRICE)
    if others or (signal["recommend"] and not (authors and signal["author_works"])):
        return reading(Intent.RECOMMEND)
    if authors and (signal["author_works"] or not titles):
        return reading(Intent.AUTHOR_WORKS)
    if titles:
        return reading(Intent.TITLE_INFO)
    if volume and refers_back:
        return reading(Intent.STOCK_PRICE)
    if genre_or_mood or ((signal["ask"] or signal["have"]) and signal["manga"]):
        return reading(Intent.RECOMMEND)
    if refers_back and signal["title_info"]:
        return reading(Intent.TITLE_INFO)
    if signal["thanks"]:
        return reading(Intent.THANKS)
    if signal["greeting"]:
        return reading(Intent.GREETING)
    if not about_manga and len(folded.replace(" ", "")) >= VAGUE_LENGTH:
        return reading(Intent.OUT_OF_SCOPE)
    return reading(Intent.UNKNOWN)
