"""Tolerance for one typo in Latin words ("naurto" -> "naruto", "deth" -> "death")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from symspellpy import SymSpell, Verbosity

__all__ = ["TypoCorrector"]

#: Words shorter than this are left alone: at 3 letters one edit reaches too many other words.
MIN_TYPO_WORD = 4


class TypoCorrector:
    """Corrects a word to the most frequent vocabulary word one edit away.

    An edit is an insertion, deletion, substitution or transposition of adjacent letters
    (optimal string alignment), which covers the usual slips of a phone keyboard.
    """

    def __init__(self, vocabulary: Iterable[str]) -> None:
        counts = Counter(w for w in vocabulary if len(w) >= MIN_TYPO_WORD)
        self._spell: Any = SymSpell(max_dictionary_edit_distance=1, prefix_length=16)
        for word, count in counts.items():
            self._spell.create_dictionary_entry(word, count)

    def correct(self, word: str) -> str | None:
        """The intended vocabulary word, or None when no word is within one edit."""
        if len(word) < MIN_TYPO_WORD:
            return None
        found = self._spell.lookup(word, Verbosity.TOP, max_edit_distance=1)
        return str(found[0].term) if found else None
