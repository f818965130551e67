"""Review sentiment without a model: a small lexicon in both languages, blended with the stars.

Each sentiment word of ``review_words`` counts +1 or -1; a negated one counts half the other
way ("not good" is mildly negative, 面白くなくはない is rare enough to get wrong), emoji count
like words. Japanese negation is read right after the word (面白 + くない, 感動 + しなかった);
English negation up to three words before it ("not really that good", "wouldn't recommend").
The text's score is ``sum / (hits + 1)``: one word says less than several.

The star rating is the customer's own verdict, so it weighs more than a crude lexicon: with
both, ``0.6 * stars + 0.4 * text``, where 1-5 stars map to -1..1; with one, that one; with
neither, 0. At least ``+0.2`` is positive, at most ``-0.2`` negative, between is neutral.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import regex

from mangaassist.jobs import review_words as words
from mangaassist.jobs.review_checks import normalize_review

__all__ = [
    "NEUTRAL_BAND",
    "RATING_WEIGHT",
    "Sentiment",
    "SentimentLabel",
    "analyze_sentiment",
    "rating_score",
    "text_score",
]

SentimentLabel = Literal["positive", "neutral", "negative"]
#: Share of the star rating in the blended score.
RATING_WEIGHT = 0.6
#: Scores strictly inside (-0.2, 0.2) are neutral.
NEUTRAL_BAND = 0.2
#: How much a negated word counts, against its own polarity.
NEGATED_WEIGHT = 0.5
#: English negators reach this many words ahead.
NEGATION_REACH = 3

_JA_TERMS = regex.compile(
    "|".join(f"(?P<p{i}>{term})" for i, term in enumerate(words.POSITIVE_JA))
    + "|"
    + "|".join(f"(?P<n{i}>{term})" for i, term in enumerate(words.NEGATIVE_JA))
)
_JA_NEGATION = regex.compile(words.NEGATION_JA)
_EN_TOKEN = regex.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True, slots=True)
class Sentiment:
    """A review's sentiment: the blended score in [-1, 1], its label, and the parts."""

    score: float
    label: SentimentLabel
    text_score: float | None
    positive_hits: int
    negative_hits: int


def _japanese_weights(text: str) -> list[float]:
    weights: list[float] = []
    for match in _JA_TERMS.finditer(text):
        polarity = 1.0 if (match.lastgroup or "").startswith("p") else -1.0
        negated = _JA_NEGATION.match(text, match.end()) is not None
        weights.append(-NEGATED_WEIGHT * polarity if negated else polarity)
    return weights


def _english_weights(text: str) -> list[float]:
    tokens = _EN_TOKEN.findall(text)
    weights: list[float] = []
    for index, token in enumerate(tokens):
        if token in words.POSITIVE_EN:
            polarity = 1.0
        elif token in words.NEGATIVE_EN:
            polarity = -1.0
        else:
            continue
        before = tokens[max(0, index - NEGATION_REACH) : index]
        negated = any(word in words.NEGATORS_EN or word.endswith("n't") for word in before)
        weights.append(-NEGATED_WEIGHT * polarity if negated else polarity)
    return weights


def _emoji_weights(text: str) -> list[float]:
    return [
        1.0 if char in words.EMOJI_POSITIVE else -1.0
        for char in text
        if char in words.EMOJI_POSITIVE or char in words.EMOJI_NEGATIVE
    ]


def text_score(text: str) -> tuple[float | None, int, int]:
    """The text's score in (-1, 1) (None when no sentiment word was found), and the counts of
    words that leaned positive and negative."""
    normalized = normalize_review(text)
    weights = _japanese_weights(normalized) + _english_weights(normalized)
    weights += _emoji_weights(normalized)
    if not weights:
        return None, 0, 0
    positive = sum(1 for weight in weights if weight > 0)
    return sum(weights) / (len(weights) + 1), positive, len(weights) - positive


def rating_score(rating: int | None) -> float | None:
    """1-5 stars as -1..1 (3 stars is 0); None for no rating or one outside 1-5."""
    if rating is None or isinstance(rating, bool) or not 1 <= rating <= 5:
        return None
    return (rating - 3) / 2


def analyze_sentiment(text: str, rating: int | None = None) -> Sentiment:
    """The sentiment of a review's text and stars; see the module docstring for the blend."""
    from_text, positive, negative = text_score(text)
    from_stars = rating_score(rating)
    if from_text is not None and from_stars is not None:
        score = RATING_WEIGHT * from_stars + (1 - RATING_WEIGHT) * from_text
    else:
        score = from_stars if from_stars is not None else from_text or 0.0
    score = round(max(-1.0, min(1.0, score)), 3)
    label: SentimentLabel = "neutral"
    if score >= NEUTRAL_BAND:
        label = "positive"
    elif score <= -NEUTRAL_BAND:
        label = "negative"
    return Sentiment(
        score=score,
        label=label,
        text_score=None if from_text is None else round(from_text, 3),
        positive_hits=positive,
        negative_hits=negative,
    )
