"""Script classification of characters: which writing system a character belongs to."""

from __future__ import annotations

import regex

__all__ = ["JAPANESE_CHAR", "has_japanese", "is_japanese_char"]

#: Hiragana, katakana (full and half width), CJK ideographs (all planes, so 𠮷 counts), the
#: prolonged sound mark and iteration marks.
JAPANESE_CHAR = regex.compile(r"[\p{Hiragana}\p{Katakana}\p{Han}ー々〆ヶ]")


def is_japanese_char(char: str) -> bool:
    """True for kana, kanji and the marks that only occur in Japanese words."""
    return JAPANESE_CHAR.match(char) is not None


def has_japanese(text: str) -> bool:
    """True when ``text`` contains at least one Japanese character."""
    return JAPANESE_CHAR.search(text) is not None
