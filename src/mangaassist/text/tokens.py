"""Search tokens: Latin words and Japanese character bigrams from folded text.

Japanese has no spaces between words, and a customer types a fragment of a title as often as the
whole (鬼滅 for 鬼滅の刃, フリーレン for 葬送のフリーレン). Overlapping character bigrams find every
fragment of two or more characters without a dictionary; Latin text is split into words and
folded for Hepburn variants.
"""

from __future__ import annotations

from functools import lru_cache

import regex

from mangaassist.text.fold import fold, fold_romaji_word

__all__ = ["PREFIX_MARK", "folded_tokens", "latin_words", "prefix_tokens", "search_tokens"]

#: Marks a token that stands for the first letters of a word, so "frier" can find "frieren".
PREFIX_MARK = "^"
#: Shortest word prefix indexed and looked up.
MIN_PREFIX = 3

_JAPANESE_RUN = r"[\p{Hiragana}\p{Katakana}\p{Han}ー々〆ヶ]+"
_ALL_JAPANESE = regex.compile(_JAPANESE_RUN)
_RUNS = regex.compile(rf"(?P<ja>{_JAPANESE_RUN})|(?P<latin>[\p{{L}}\p{{N}}]+)")


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def search_tokens(text: str) -> list[str]:
    """Tokens of ``text`` for indexing and querying: folded words and Japanese bigrams."""
    if len(text) <= _CACHED_TEXT_LEN:
        return list(_cached_tokens(text))
    return folded_tokens(fold(text))


#: Short texts (names, labels, queries) repeat across a catalog and its queries; cache them.
_CACHED_TEXT_LEN = 200


@lru_cache(maxsize=100_000)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(folded_tokens(fold(text)))


def folded_tokens(folded: str) -> list[str]:
    """``search_tokens`` of text that already went through ``fold``."""
    tokens: list[str] = []
    for chunk in folded.split():
        # Fast paths for the two common cases; folding left only letters and digits.
        if chunk.isascii():
            tokens.append(fold_romaji_word(chunk))
        elif _ALL_JAPANESE.fullmatch(chunk):
            tokens.extend(_bigrams(chunk))
        else:
            for match in _RUNS.finditer(chunk):
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
