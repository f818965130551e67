"""Japanese-aware lexical search over the catalog.

Each searchable field (title, author, labels, synopsis) has its own BM25 index over the tokens of
``text.tokens``; a query's score is the weighted sum, so a match in the title outranks the same
match in a synopsis. Unknown Latin words are read as the start of a title or author word
("frier") or corrected by one edit ("naurto"). Finally, candidates whose title (or alias, reading,
romaji) equals, starts with or contains the whole query get a boost.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import bm25s
import numpy as np
import numpy.typing as npt

from mangaassist.catalog.labels import labels_text
from mangaassist.catalog.typos import TypoCorrector
from mangaassist.domain.catalog import Genre, SeriesRecord
from mangaassist.text.fold import fold, fold_romaji_word
from mangaassist.text.tokens import (
    PREFIX_MARK,
    folded_tokens,
    latin_words,
    prefix_tokens,
    search_tokens,
)

#: bm25s sets its logger to DEBUG when imported; let it follow the configured level.
logging.getLogger("bm25s").setLevel(logging.NOTSET)

__all__ = ["SearchFilters", "SearchHit", "SearchIndex", "SearchResult"]

#: How much a match in each field counts; the title dominates so that 鬼滅 finds 鬼滅の刃 first.
FIELD_WEIGHTS: dict[str, float] = {"title": 4.0, "author": 2.5, "labels": 1.2, "synopsis": 0.5}
#: Score multipliers when the whole query equals, starts or occurs in a title form.
EXACT_TITLE_BOOST = 2.0
PREFIX_TITLE_BOOST = 1.5
PARTIAL_TITLE_BOOST = 1.25
#: Candidates re-ranked with title boosts, per requested result.
RERANK_FACTOR = 5
RERANK_MIN = 50

#: Marks the whole of a Latin title written without spaces ("onepiece"), kept apart from words.
COMPACT_MARK = "="

_GENRES = list(Genre)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Restrictions on search results; None means no restriction."""

    genre: Genre | None = None
    in_stock: bool | None = None
    min_price_jpy: int | None = None
    max_price_jpy: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching series and its relevance score (higher is better)."""

    record: SeriesRecord
    score: float


@dataclass(frozen=True, slots=True)
class SearchResult:
    """The best hits, how many series matched in all, and the typo corrections applied."""

    hits: list[SearchHit]
    total: int
    corrections: dict[str, str] = field(default_factory=dict)


def _compact(text: str) -> str:
    """Whole-string search key: folded, romaji-folded, without spaces."""
    return _compact_folded(fold(text))


def _compact_folded(folded: str) -> str:
    return "".join(fold_romaji_word(word) for word in folded.split())


def _title_forms(record: SeriesRecord) -> list[str]:
    return [record.title, record.title_ja, record.title_kana, record.title_romaji, *record.aliases]


def _title_tokens_and_keys(record: SeriesRecord) -> tuple[list[str], set[str]]:
    """Tokens of every title form, and each form's whole-string key for title boosts."""
    tokens: list[str] = []
    keys: set[str] = set()
    for form in filter(None, _title_forms(record)):
        folded = fold(form)
        form_tokens = folded_tokens(folded)
        tokens.extend(form_tokens)
        tokens.extend(prefix_tokens(form_tokens))
        keys.add(_compact_folded(folded))
        if len(form_tokens) > 1 and all(t.isascii() for t in form_tokens):
            tokens.append(COMPACT_MARK + "".join(form_tokens))  # "=kimetsunoyaiba"
    return tokens, keys


def _author_tokens(record: SeriesRecord) -> list[str]:
    text = " ".join((record.author, record.author_ja, record.author_kana, record.author_romaji))
    tokens = search_tokens(text)
    return tokens + prefix_tokens(tokens)


def _field_tokens(record: SeriesRecord, title_tokens: list[str]) -> dict[str, list[str]]:
    return {
        "title": title_tokens,
        "author": _author_tokens(record),
        "labels": search_tokens(labels_text(record.genre, record.demographic, record.tags)),
        "synopsis": search_tokens(f"{record.synopsis_en} {record.synopsis_ja}"),
    }


class SearchIndex:
    """An immutable search index over a snapshot of the catalog."""

    def __init__(self, records: Sequence[SeriesRecord], version: int = 0) -> None:
        self.version = version
        self._records = list(records)
        per_field: dict[str, list[list[str]]] = {name: [] for name in FIELD_WEIGHTS}
        self._title_keys: list[set[str]] = []
        for record in self._records:
            title_tokens, title_keys = _title_tokens_and_keys(record)
            self._title_keys.append(title_keys)
            for name, tokens in _field_tokens(record, title_tokens).items():
                per_field[name].append(tokens)
        self._bm25: dict[str, Any] = {}
        self._vocabulary: set[str] = set()
        for name, corpus in per_field.items():
            index = bm25s.BM25()
            if corpus:
                index.index(corpus, show_progress=False)
                self._vocabulary.update(index.vocab_dict)
            self._bm25[name] = index
        self._typos = TypoCorrector(
            word
            for tokens in per_field["title"] + per_field["author"]
            for word in latin_words(tokens)
        )
        self._genre = np.array([_GENRES.index(r.genre) for r in self._records], dtype=np.int8)
        self._stock = np.array([r.stock for r in self._records], dtype=np.int64)
        self._price = np.array([r.price_jpy for r in self._records], dtype=np.int64)

    def __len__(self) -> int:
        return len(self._records)

    @property
    def records(self) -> list[SeriesRecord]:
        """The indexed series, in store order (do not modify)."""
        return self._records

    def _resolve(self, tokens: list[str]) -> tuple[list[str], dict[str, str]]:
        """Query tokens as the index knows them: prefixes and typo corrections applied."""
        resolved: list[str] = []
        corrections: dict[str, str] = {}
        for token in tokens:
            if token in self._vocabulary or not (token.isascii() and token.isalpha()):
                resolved.append(token)
            elif COMPACT_MARK + token in self._vocabulary:
                resolved.append(COMPACT_MARK + token)
            elif PREFIX_MARK + token in self._vocabulary:
                resolved.append(PREFIX_MARK + token)
            elif (fixed := self._typos.correct(token)) is not None:
                resolved.append(fixed)
                corrections[token] = fixed
            else:
                resolved.append(token)
        return resolved, corrections

    def _mask(self, filters: SearchFilters) -> npt.NDArray[np.bool_]:
        mask = np.ones(len(self._records), dtype=np.bool_)
        if filters.genre is not None:
            mask &= self._genre == _GENRES.index(filters.genre)
        if filters.in_stock is not None:
            mask &= (self._stock > 0) == filters.in_stock
        if filters.min_price_jpy is not None:
            mask &= self._price >= filters.min_price_jpy
        if filters.max_price_jpy is not None:
            mask &= self._price <= filters.max_price_jpy
        return mask

    def _title_boost(self, position: int, key: str) -> float:
        keys = self._title_keys[position]
        if key in keys:
            return EXACT_TITLE_BOOST
        if any(k.startswith(key) for k in keys):
            return PREFIX_TITLE_BOOST
        if any(key in k for k in keys):
            return PARTIAL_TITLE_BOOST
        return 1.0

    def search(
        self, query: str, filters: SearchFilters | None = None, limit: int = 10
    ) -> SearchResult:
        """The ``limit`` best series for ``query`` that pass ``filters``."""
        tokens, corrections = self._resolve(search_tokens(query))
        if not tokens or not self._records:
            return SearchResult([], 0, corrections)
        scores = np.zeros(len(self._records), dtype=np.float64)
        for name, weight in FIELD_WEIGHTS.items():
            scores += weight * self._bm25[name].get_scores(tokens)
        scores[~self._mask(filters or SearchFilters())] = 0.0
        matched = np.flatnonzero(scores > 0)
        shortlist_size = min(len(matched), max(limit * RERANK_FACTOR, RERANK_MIN))
        shortlist = matched[np.argpartition(-scores[matched], shortlist_size - 1)[:shortlist_size]]
        key = _compact(query)
        ranked = sorted(
            (
                (float(scores[i]) * self._title_boost(int(i), key), self._records[i])
                for i in shortlist
            ),
            key=lambda pair: (-pair[0], pair[1].title),
        )
        hits = [SearchHit(record, score) for score, record in ranked[:limit]]
        return SearchResult(hits, len(matched), corrections)
