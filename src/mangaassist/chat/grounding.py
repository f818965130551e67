"""Keeping a real model's answer to the products it was given.

The system prompt lists the catalog series a model may talk about; models still name others
(a famous title they remember, a series the store does not carry). The ``GroundingGuard`` sits
between the model's stream and the customer: it holds text back until a sentence ends, then lets
the sentence through or drops it when it names a series that was not in the prompt:

* a catalog series found in the sentence (the planner's name matcher) that is not allowed;
* a title in 『』 (the prompt asks for titles in 『』) that is neither an allowed series' name
  nor something the customer wrote in their own message.

The router falls back to the catalog-only answer when nothing of an answer survives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import regex

from mangaassist.chat.catalog_view import CatalogView, title_names
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.text.fold import fold
from mangaassist.text.scripts import has_japanese

__all__ = ["GroundingGuard", "GroundingRules", "allowed_series"]

#: Where a sentence ends: Japanese and Latin sentence marks, a line break, or ". ".
_SENTENCE_END = regex.compile(r"[。！？!?\n]+[」』）)]*|\.(?=\s)")
_BRACKETED = regex.compile(r"『([^』]{1,80})』")
#: A sentence held longer than this many characters is checked and released as it is.
MAX_HELD_CHARS = 240
#: Japanese catalog names shorter than this are too ambiguous to condemn a sentence.
MIN_JAPANESE_NAME = 4


@dataclass(frozen=True, slots=True)
class GroundingRules:
    """What one answer may name: the series of its prompt, and the customer's own words."""

    view: CatalogView
    allowed: tuple[SeriesRecord, ...]
    customer_text: str = ""
    _allowed_ids: frozenset[str] = field(init=False)
    _allowed_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        names = {
            fold(name)
            for record in self.allowed
            for name in (record.title, record.title_ja, record.title_romaji, *record.aliases)
            if name
        }
        object.__setattr__(self, "_allowed_ids", frozenset(r.id for r in self.allowed))
        object.__setattr__(self, "_allowed_names", tuple(n for n in names if n))

    def unknown_titles(self, sentence: str) -> list[str]:
        """Titles in ``sentence`` that the answer may not name."""
        unknown: list[str] = []
        series, _authors = self.view.names_in(sentence)
        for record in series:
            if record.id in self._allowed_ids:
                continue
            if not _named_clearly(record, sentence):
                continue
            unknown.append(record.title_ja)
        customer = fold(self.customer_text)
        for title in _BRACKETED.findall(sentence):
            folded = fold(title)
            if not folded or folded in customer:
                continue
            if any(name in folded or folded in name for name in self._allowed_names):
                continue
            if title not in unknown:
                unknown.append(title)
        return unknown


def _named_clearly(record: SeriesRecord, sentence: str) -> bool:
    """True when the sentence holds one of the record's names that cannot be a common word
    (short Japanese names such as 「銀魂」 also occur inside ordinary words)."""
    folded = fold(sentence)
    for name in title_names(record):
        form = fold(name)
        if form and form in folded and (not has_japanese(name) or len(form) >= MIN_JAPANESE_NAME):
            return True
    return False


class GroundingGuard:
    """Filters one answer's deltas sentence by sentence; see the module docstring."""

    def __init__(self, rules: GroundingRules) -> None:
        self._rules = rules
        self._held = ""
        self.released: list[str] = []
        self.dropped: list[str] = []
        self.unknown: list[str] = []

    def feed(self, delta: str) -> list[str]:
        """The text that may be shown now, in pieces (possibly none)."""
        self._held += delta
        out: list[str] = []
        while True:
            match = _SENTENCE_END.search(self._held)
            if match is None:
                if len(self._held) > MAX_HELD_CHARS:
                    out.extend(self._check(self._held))
                    self._held = ""
                return out
            sentence, self._held = self._held[: match.end()], self._held[match.end() :]
            out.extend(self._check(sentence))

    def flush(self) -> list[str]:
        """The rest, when the model has finished."""
        held, self._held = self._held, ""
        return self._check(held) if held else []

    @property
    def text(self) -> str:
        """Everything released so far."""
        return "".join(self.released)

    def _check(self, sentence: str) -> list[str]:
        unknown = self._rules.unknown_titles(sentence)
        if unknown:
            self.dropped.append(sentence)
            self.unknown.extend(unknown)
            return []
        self.released.append(sentence)
        return [sentence]


def allowed_series(*groups: Iterable[SeriesRecord | None]) -> tuple[SeriesRecord, ...]:
    """The distinct records of ``groups``, in order, without ``None``."""
    seen: dict[str, SeriesRecord] = {}
    for group in groups:
        for record in group:
            if record is not None:
                seen.setdefault(record.id, record)
    return tuple(seen.values())
