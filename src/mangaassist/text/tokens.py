"""Search tokens: Latin words and Japanese character bigrams from folded text.

Japanese has no spaces between words, and a customer types a fragment of a title as often as the
whole (鬼滅 for 鬼滅の刃, フリーレン for 葬送のフリーレン). Overlapping character bigrams find every
fragment of two or more characters without a dictionary; Latin text is split into words and
folded for Hepburn variants.
"""

from __future__ import annotations

import regex

from mangaassist.text.fold import fold, fold_romaji_word

__all__ = ["PREFIX_MARK", "latin_words", "prefix_tokens", "search_tokens"]

#: Marks a token that stands for the first letters of a word, so "frier" can find "frieren".
PREFIX_MARK = "^"
#: Shortest word prefix indexed and looked up.
MIN_PREFIX = 3

_RUNS = regex.compile(
    r"(?P<ja>[\p{Hiragana}\p{Katakana}\p{Han}ー々〆ヶ]+)|(?P<latin>[\p{L}\p{N}]+)"
)


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def search_tokens(text: str) -> list[str]:
    """Tokens of ``text`` for indexing and querying: folded words and Japanese bigrams."""
    tokens: list[str] = []
    for match in _RUNS.finditer(fold(text)):
        japanese = match.group("ja")
        if japanese:
            tokens.extend(_bigrams(japanese))
        else:
            tokens.append(fold_romaji_word(match.group("latin")))
    return tokens


def latin_words(tokens: list[str]) -> list[str]:
    """The tokens that are Latin-script words (candidates for typo correction and prefixes)."""
    return [t for t in tokens if t.isascii() and t.isalpha()]


def prefix_tokens(tokens: list[str]) -> list[str]:
    """Prefix tokens (``^fri``, ``^frie``, ...) of the Latin words among ``tokens``."""
    out: list[str] = []
    for word in latin_words(tokens):
        out.extend(PREFIX_MARK + word[:n] for n in range(MIN_PREFIX, len(word)))
    return out
