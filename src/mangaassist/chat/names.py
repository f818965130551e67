"""Finding catalog names (titles, aliases, authors) inside a customer's sentence.

Japanese has no spaces, so a Japanese name is looked for as a substring of the folded message;
a Latin name must match whole words ("Berserk" in "Is Berserk in stock?", but "One" not inside
"someone"). Lookups are dictionary probes over the message's substrings and word n-grams, so the
cost depends on the message length, not on the catalog size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from mangaassist.catalog.typos import TypoCorrector
from mangaassist.text.fold import fold, fold_romaji_word
from mangaassist.text.scripts import has_japanese

__all__ = ["NameMatch", "NameMatcher"]

#: Longest message prefix scanned; names beyond it are ignored.
MAX_SCAN = 400
#: Shortest names that can match: Japanese (characters) and Latin (letters).
MIN_JAPANESE = 2
MIN_LATIN = 3
#: Latin names that are everyday English words match only when written with a capital.
COMMON_WORDS = frozenset(
    {
        "one", "real", "major", "touch", "days", "monster", "another", "orange", "museum",
        "pluto", "blame", "nana", "akira", "gantz", "bleach", "berserk", "overlord", "medalist",
        "kingdom", "vagabond", "historie", "mushishi", "shiki", "homunculus", "ping", "pong",
        "ahiru",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class NameMatch:
    """A name found in the message: whose it is, the name as matched, and where."""

    owner: str
    name: str
    start: int
    end: int


#: Runs of one script inside a folded word: "pieceの最新刊" -> "piece", "の最新刊".
_SCRIPT_RUNS = regex.compile(r"[a-z0-9]+|[^a-z0-9]+")


def _words(text: str) -> list[str]:
    """Folded words, split where Latin meets another script (Japanese writes no spaces)."""
    return [
        fold_romaji_word(run) for word in fold(text).split() for run in _SCRIPT_RUNS.findall(word)
    ]


class NameMatcher:
    """Finds names from a fixed list in free text; ``owner`` identifies what a name names."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        self._japanese: dict[str, set[str]] = defaultdict(set)
        self._latin: dict[str, set[str]] = defaultdict(set)
        self._display: dict[str, str] = {}
        self._capitalized: set[str] = set()
        vocabulary: list[str] = []
        for name, owner in names:
            words = _words(name)
            if not words:
                continue
            if has_japanese(name):
                key = "".join(words)
                if len(key) >= MIN_JAPANESE:
                    self._japanese[key].add(owner)
                    self._display.setdefault(key, name)
            else:
                key = " ".join(words)
                if len(key.replace(" ", "")) >= MIN_LATIN:
                    self._latin[key].add(owner)
                    self._display.setdefault(key, name)
                    vocabulary.extend(words)
                    if len(words) == 1 and key in COMMON_WORDS:
                        self._capitalized.add(key)
        self._japanese_lengths = sorted({len(k) for k in self._japanese}, reverse=True)
        self._max_words = max((k.count(" ") + 1 for k in self._latin), default=0)
        self._vocabulary = set(vocabulary)
        self._typos = TypoCorrector(vocabulary)

    def find(self, text: str) -> list[NameMatch]:
        """Non-overlapping matches, longest first where they compete, in text order."""
        candidates = self._japanese_matches(text) + self._latin_matches(text)
        candidates.sort(key=lambda m: (-(m.end - m.start), m.start))
        taken: list[NameMatch] = []
        for match in candidates:
            if all(match.end <= t.start or match.start >= t.end for t in taken):
                taken.append(match)
        return sorted(taken, key=lambda m: m.start)

    def _japanese_matches(self, text: str) -> list[NameMatch]:
        compact = "".join(_words(text))[:MAX_SCAN]
        found: list[NameMatch] = []
        for length in self._japanese_lengths:
            for start in range(len(compact) - length + 1):
                key = compact[start : start + length]
                for owner in self._japanese.get(key, ()):
                    found.append(NameMatch(owner, self._display[key], start, start + length))
        return found

    def _latin_matches(self, text: str) -> list[NameMatch]:
        words = [self._correct(w) for w in _words(text)[:MAX_SCAN]]
        capitalized = {w.casefold() for w in text.split() if w[:1].isupper()}
        capitalized |= {fold(w) for w in capitalized}
        found: list[NameMatch] = []
        offset = 10_000  # Latin positions live apart from Japanese ones; they never overlap
        for size in range(min(self._max_words, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                key = " ".join(words[start : start + size])
                owners = self._latin.get(key)
                if not owners:
                    continue
                if key in self._capitalized and not any(key in c for c in capitalized):
                    continue
                for owner in owners:
                    found.append(
                        NameMatch(owner, self._display[key], offset + start, offset + start + size)
                    )
        return found

    def _correct(self, word: str) -> str:
        if word in self._vocabulary or len(word) < 5 or not word.isascii():
            return word
        return self._typos.correct(word) or word
