"""The offline content check of a customer review: deterministic rules, Japanese and English.

``check_review`` normalizes the text first (NFKC, so ０９０－１２３４－５６７８ and ﾈﾀﾊﾞﾚ read as
090-1234-5678 and ネタバレ; case folded; curly apostrophes straightened), then looks for:

============================  ==================================================  ==========
category                      signals                                             severity
============================  ==================================================  ==========
``threat``                    violence aimed at a person, self-harm incitement    critical
``contact_details``           e-mail, phone numbers (Japanese and international),  high
                              LINE ids and social handles
``harassment``                abuse aimed at a person (死ね, "you are trash")      high
``link``                      URLs, ``www.``, bare shop-unlikely domains           medium
``profanity``                 vulgar words and plain insults                       medium
``spam``                      a character repeated 10+ times, ALL-CAPS shouting    low
``spoiler``                   ネタバレ, "spoiler"                                  low
============================  ==================================================  ==========

The review's severity is the highest of its categories, except that a link in a spammy review
(repeated characters, shouting) is ``high``: that is how promotion spam looks. The word lists
live in ``review_words``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import regex

from mangaassist.jobs import review_words as words

__all__ = [
    "EXCERPT_CHARS",
    "SEVERITY_ORDER",
    "ReviewCheck",
    "Severity",
    "check_review",
    "normalize_review",
]

Severity = Literal["low", "medium", "high", "critical"]
#: Severities from least to most serious.
SEVERITY_ORDER: tuple[Severity, ...] = ("low", "medium", "high", "critical")
#: Longest excerpt a ModerationFlagged event carries (its schema's limit).
EXCERPT_CHARS = 500
_CATEGORY_SEVERITY: dict[str, Severity] = {
    "threat": "critical",
    "contact_details": "high",
    "harassment": "high",
    "link": "medium",
    "profanity": "medium",
    "spam": "low",
    "spoiler": "low",
}
#: Shouting: this many Latin letters at least, this share of them capitals.
SHOUT_MIN_LETTERS = 20
SHOUT_CAPITAL_SHARE = 0.8

_KATAKANA = r"ァ-ヺー"


def _word(entry: str) -> str:
    """``entry`` with boundaries: whole Latin words, katakana not inside a longer word."""
    start = entry[0] if entry[0] not in "(" else entry[3:4]
    before = r"(?<![a-z0-9])" if start.isascii() and start.isalpha() else ""
    if regex.match(f"[{_KATAKANA}]", start):
        before = f"(?<![{_KATAKANA}])"
    end = regex.sub(r"\(\?[!=][^)]*\)$", "", entry).rstrip("?)")[-1:]
    after = r"(?![a-z0-9])" if end.isascii() and end.isalpha() else ""
    if regex.match(f"[{_KATAKANA}]", end):
        after = f"(?![{_KATAKANA}])"
    return f"{before}(?:{entry}){after}"


def _any(entries: tuple[str, ...]) -> regex.Pattern[str]:
    return regex.compile("|".join(_word(entry) for entry in entries))


_SEP = r"[-\s.‐‑‒–—―−ー]?"
_PATTERNS: tuple[tuple[str, str, regex.Pattern[str]], ...] = (
    ("threat", "threat_words", _any(words.THREATS)),
    ("contact_details", "email", regex.compile(
        r"[a-z0-9._%+-]+(?:@|\s*(?:\(at\)|\[at\]|アットマーク)\s*)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}"
    )),
    ("contact_details", "phone", regex.compile(
        rf"(?<![\d.-])(?:\+81{_SEP}\(?0?\)?|0)\d{{1,4}}{_SEP}\(?\d{{1,4}}\)?{_SEP}\d{{3,4}}(?![\d])"
    )),
    ("contact_details", "phone", regex.compile(
        r"(?<![\d.-])(?:\+1[-\s.]?)?\(?[2-9]\d{2}\)?[-\s.]\d{3}[-\s.]\d{4}(?!\d)"
    )),
    ("contact_details", "messenger_id", regex.compile(
        r"(?:line|ライン)\s*id\s*[:：=は]?\s*@?[a-z0-9._-]{3,}"
        r"|(?:twitter|instagram|insta|discord|ツイッター|インスタ)\s*[:：]?\s*@[a-z0-9_]{3,}"
    )),
    ("harassment", "harassment_words", _any(words.HARASSMENT)),
    ("link", "url", regex.compile(
        r"(?:https?|ftp)://\S+|(?<![a-z0-9@.-])www\.[a-z0-9-]+\.\S+"
        r"|(?<![a-z0-9@.-])[a-z0-9][a-z0-9-]{0,62}\.(?:com|net|org|info|biz|xyz|top|io|ly|me|tk"
        r"|ru|cn|shop|site|online|co\.jp|ne\.jp|or\.jp|jp)(?![a-z0-9-])(?:/\S*)?"
    )),
    ("profanity", "profane_words", _any(words.PROFANITY)),
    ("spam", "repeated_characters", regex.compile(r"(\S)\1{9,}")),
    ("spoiler", "spoiler_marker", _any(words.SPOILER_MARKERS)),
)  # fmt: skip
_DIGITS = regex.compile(r"\d")
_LATIN = regex.compile(r"[A-Za-z]")


@dataclass(frozen=True, slots=True)
class ReviewCheck:
    """What the check found: nothing (``severity`` None) or categories, signals, an excerpt."""

    severity: Severity | None
    categories: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    excerpt: str = ""

    @property
    def flagged(self) -> bool:
        """True when anything was found."""
        return self.severity is not None


def normalize_review(text: str) -> str:
    """The text the rules read: NFKC, case folded, apostrophes and whitespace made plain."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return folded.replace("’", "'").replace("‘", "'")


def _phone_digits_ok(match: str) -> bool:
    digits = "".join(_DIGITS.findall(match))
    if match.startswith("+81"):
        return 11 <= len(digits) <= 13
    if match.startswith("0"):
        return 10 <= len(digits) <= 11
    return len(digits) in (10, 11)  # the North American form


def _shouting(text: str) -> bool:
    letters = _LATIN.findall(unicodedata.normalize("NFKC", text))
    capitals = sum(1 for letter in letters if letter.isupper())
    return len(letters) >= SHOUT_MIN_LETTERS and capitals >= SHOUT_CAPITAL_SHARE * len(letters)


def _original_position(original: str, at: int) -> int:
    """Where position ``at`` of the normalized text falls in the original. Character by
    character, so approximate where NFKC joins characters (ﾊﾞ -> バ): a window may move by a
    character or two."""
    length = 0
    for index, char in enumerate(original):
        length += len(normalize_review(char))
        if length > at:
            return index
    return len(original)


def _excerpt(original: str, at: int) -> str:
    """The review as written when it fits, else a window of it around position ``at``."""
    if len(original) <= EXCERPT_CHARS:
        return original
    width = EXCERPT_CHARS - 2  # room for an ellipsis at each end
    start = max(0, min(at - 150, len(original) - width))
    window = original[start : start + width]
    head = "…" if start > 0 else ""
    tail = "…" if start + len(window) < len(original) else ""
    return f"{head}{window}{tail}"


def check_review(text: str) -> ReviewCheck:
    """Check one review's text; see the module docstring for the categories and severities."""
    normalized = normalize_review(text)
    found: dict[str, tuple[str, int]] = {}  # signal -> (category, first position)
    for category, signal, pattern in _PATTERNS:
        for match in pattern.finditer(normalized):
            if signal == "phone" and not _phone_digits_ok(match.group()):
                continue
            found.setdefault(signal, (category, match.start()))
            break
    if _shouting(text):
        found.setdefault("shouting", ("spam", 0))
    if not found:
        return ReviewCheck(severity=None)
    categories = sorted(
        dict.fromkeys(category for category, _ in found.values()),
        key=lambda category: -_rank(category),
    )
    top = _rank(categories[0])
    # Where the most serious finding starts: the excerpt shows it.
    at = min(position for category, position in found.values() if _rank(category) == top)
    rank = top
    if "link" in categories and "spam" in categories:
        rank = max(rank, SEVERITY_ORDER.index("high"))
    return ReviewCheck(
        severity=SEVERITY_ORDER[rank],
        categories=tuple(categories),
        signals=tuple(found),
        excerpt=_excerpt(text, _original_position(text, at)),
    )


def _rank(category: str) -> int:
    return SEVERITY_ORDER.index(_CATEGORY_SEVERITY[category])
