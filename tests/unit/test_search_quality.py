"""The search-quality table of bench/search_quality.py: every case must hit in the top 3."""

from __future__ import annotations

import pytest

from bench.search_quality import CASES, TOP, Case, evaluate
from mangaassist.catalog.index import SearchIndex
from mangaassist.domain.catalog import SeriesRecord


@pytest.fixture(scope="module")
def curated_index(curated: list[SeriesRecord]) -> SearchIndex:
    return SearchIndex(curated)


def test_table_covers_every_kind_of_writing() -> None:
    kinds = " ".join(case.kind for case in CASES)
    for kind in ("kanji", "hiragana", "katakana", "half-width", "romaji", "English", "author",
                 "partial", "typo"):  # fmt: skip
        assert kind in kinds
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.query)
def test_expected_series_in_top_3(curated_index: SearchIndex, case: Case) -> None:
    [outcome] = [o for o in evaluate(curated_index) if o.case == case]
    assert outcome.hit, f"{case.query!r}: expected {case.expected} in top {TOP}, got {outcome.top}"
