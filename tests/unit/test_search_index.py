"""Search semantics on a small hand-made catalog: matching, ranking, filters, typos."""

from __future__ import annotations

import pytest

from mangaassist.catalog.index import SearchFilters, SearchIndex
from mangaassist.domain.catalog import Genre, SeriesRecord
from tests.conftest import make_record
from tests.samples import DEMON_SLAYER, FRIEREN, QUIET_SEAS, SLIME


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    records = [DEMON_SLAYER, FRIEREN, SLIME, QUIET_SEAS]
    return SearchIndex(records, version=7)


def titles(index: SearchIndex, query: str, **filters: object) -> list[str]:
    result = index.search(query, SearchFilters(**filters))  # type: ignore[arg-type]
    return [hit.record.title for hit in result.hits]


@pytest.mark.parametrize(
    "query", ["鬼滅", "鬼滅の刃", "きめつ", "キメツノヤイバ", "kimetsu no yaiba", "demon slayer"]
)
def test_every_way_of_writing_the_title_finds_it_first(index: SearchIndex, query: str) -> None:
    assert titles(index, query)[0] == "Demon Slayer"


def test_title_match_outranks_synopsis_mention(index: SearchIndex) -> None:
    found = titles(index, "鬼滅の刃")
    assert found.index("Demon Slayer") < found.index("Quiet Seas")


def test_partial_katakana_title(index: SearchIndex) -> None:
    assert titles(index, "フリーレン")[0] == "Frieren: Beyond Journey's End"


def test_partial_latin_word_is_read_as_a_prefix(index: SearchIndex) -> None:
    assert titles(index, "frier")[0] == "Frieren: Beyond Journey's End"


def test_one_typo_is_corrected_and_reported(index: SearchIndex) -> None:
    result = index.search("freiren")
    assert result.hits[0].record.title.startswith("Frieren")
    assert result.corrections == {"freiren": "frieren"}


def test_author_in_either_script_and_order(index: SearchIndex) -> None:
    for query in ("吾峠呼世晴", "gotouge koyoharu", "Koyoharu Gotouge", "gotoge"):
        assert titles(index, query)[0] == "Demon Slayer", query


def test_abbreviation_alias(index: SearchIndex) -> None:
    assert titles(index, "転スラ")[0] == "That Time I Got Reincarnated as a Slime"


def test_genre_words_in_japanese_find_the_genre(index: SearchIndex) -> None:
    assert titles(index, "異世界")[0] == "That Time I Got Reincarnated as a Slime"


def test_filters(index: SearchIndex) -> None:
    assert "Demon Slayer" not in titles(index, "鬼滅", in_stock=True)
    assert titles(index, "鬼滅", in_stock=False) == ["Demon Slayer"]
    assert titles(index, "鬼滅", genre=Genre.SEINEN) == ["Quiet Seas"]
    assert titles(index, "鬼滅", min_price_jpy=600) == ["Quiet Seas"]
    assert titles(index, "鬼滅", max_price_jpy=600) == ["Demon Slayer"]


def test_no_match_and_total(index: SearchIndex) -> None:
    assert index.search("zzzzqqq").hits == []
    assert index.search("zzzzqqq").total == 0
    assert index.search("鬼滅").total == 2


def test_limit_caps_hits_not_total(index: SearchIndex) -> None:
    result = index.search("the", limit=1)
    assert len(result.hits) <= 1
    assert result.total >= len(result.hits)


def test_query_of_only_symbols_finds_nothing(index: SearchIndex) -> None:
    assert index.search("!!! 🍜 ？？").hits == []


def test_empty_catalog_finds_nothing() -> None:
    empty = SearchIndex([])
    assert len(empty) == 0
    assert empty.search("鬼滅").hits == []


def test_index_keeps_the_catalog_version(index: SearchIndex) -> None:
    assert index.version == 7


def test_scores_are_descending(index: SearchIndex) -> None:
    scores = [hit.score for hit in index.search("の").hits]
    assert scores == sorted(scores, reverse=True)


def _record(title: str) -> SeriesRecord:
    return make_record(title=title, title_ja=title)


def test_large_result_sets_return_only_the_best() -> None:
    index = SearchIndex([_record(f"Dragon {i}") for i in range(300)])
    result = index.search("dragon", limit=5)
    assert len(result.hits) == 5
    assert result.total == 300
