"""The analyzer on the curated catalog: grounded JSON per type offline, raw text kept otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mangaassist.analysis.base import ANALYSIS_TYPES, ENRICHMENT_TYPES, UnknownSeriesError
from mangaassist.analysis.service import ModelAnalyzer
from mangaassist.catalog.service import CatalogService
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.cost import Price
from mangaassist.domain.policy import StorePolicy
from mangaassist.llm.base import (
    ChatModel,
    ModelError,
    ModelRequest,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
)
from mangaassist.llm.offline import OfflineModel
from mangaassist.store.sql import SqlStore
from mangaassist.text.scripts import has_japanese
from mangaassist.text.token_estimate import estimate_tokens

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PRICES = {HAIKU: Price(0.25, 1.25)}


class ScriptedModel(ChatModel):
    """Answers every request with the same text (or fails), as a real model might."""

    model_id = HAIKU

    def __init__(self, text: str = "", *, fail: bool = False) -> None:
        self.text = text
        self.fail = fail
        self.requests: list[ModelRequest] = []

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        self.requests.append(request)
        if self.fail:
            raise ModelError("throttled")
        yield TextDelta(self.text)
        yield StreamEnd(Usage(1000, 200))


@pytest.fixture
async def catalog(sqlite_store: SqlStore, curated: list[SeriesRecord]) -> CatalogService:
    service = CatalogService(sqlite_store)
    await service.upsert(curated)
    return service


def offline_analyzer(catalog: CatalogService) -> ModelAnalyzer:
    return ModelAnalyzer(catalog, OfflineModel(StorePolicy(), estimate_tokens), PRICES)


def by_title(curated: list[SeriesRecord], title_ja: str) -> SeriesRecord:
    return next(r for r in curated if r.title_ja == title_ja)


@pytest.mark.parametrize("analysis_type", ANALYSIS_TYPES + ENRICHMENT_TYPES)
async def test_every_type_gets_json_from_the_offline_model_for_free(
    catalog: CatalogService, curated: list[SeriesRecord], analysis_type: str
) -> None:
    record = curated[0]
    result = await offline_analyzer(catalog).analyze(record.id, analysis_type)
    assert result.parsed, result.raw_text
    assert result.series_id == record.id
    assert result.analysis_type == analysis_type
    assert result.model_id == "offline"
    assert result.cost_usd == 0.0
    assert result.input_tokens > 0
    assert result.output_tokens > 0


async def test_genre_and_tags_are_the_records(
    catalog: CatalogService, curated: list[SeriesRecord]
) -> None:
    analyzer = offline_analyzer(catalog)
    for record in curated[:20]:
        result = await analyzer.analyze(record.id, "genre_classification")
        assert result.data is not None
        assert result.data["genre"] == record.genre
        assert result.data["demographic"] == record.demographic
        assert result.data["tags"] == list(record.tags)


async def test_summaries_keep_the_japanese_synopsis_intact(
    catalog: CatalogService, curated: list[SeriesRecord]
) -> None:
    frieren = by_title(curated, "葬送のフリーレン")
    result = await offline_analyzer(catalog).analyze(frieren.id, "content_summary")
    assert result.data is not None
    assert result.data["summary_ja"] == frieren.synopsis_ja
    assert has_japanese(result.data["summary_ja"])
    assert result.data["summary_en"] == frieren.synopsis_en
    assert frieren.synopsis_ja in result.raw_text  # not \\u-escaped


@pytest.mark.parametrize("analysis_type", ["similar_series", "recommendations", "full_enrichment"])
async def test_similar_series_are_real_other_series_of_the_catalog(
    catalog: CatalogService, curated: list[SeriesRecord], analysis_type: str
) -> None:
    ids = {r.id: r for r in curated}
    slime = by_title(curated, "転生したらスライムだった件")
    result = await offline_analyzer(catalog).analyze(slime.id, analysis_type)
    assert result.data is not None
    items = {
        "similar_series": lambda d: d["similar"],
        "recommendations": lambda d: d["recommendations"],
        "full_enrichment": lambda d: d["similar_series"]["similar"],
    }[analysis_type](result.data)
    assert len(items) == 5
    for item in items:
        assert item["id"] in ids
        assert item["id"] != slime.id
        other = ids[item["id"]]
        assert item["title_ja"] == other.title_ja
        assert other.genre == slime.genre or set(other.tags) & set(slime.tags)
        assert has_japanese(item["reason_ja"])


async def test_an_unknown_series_or_type_is_refused(catalog: CatalogService) -> None:
    analyzer = offline_analyzer(catalog)
    with pytest.raises(UnknownSeriesError):
        await analyzer.analyze("MNG-NOSUCH00", "tags")
    with pytest.raises(ValueError, match="unknown analysis type"):
        await analyzer.analyze("MNG-NOSUCH00", "horoscope")


async def test_an_answer_that_is_not_json_is_kept_as_raw_text(
    catalog: CatalogService, curated: list[SeriesRecord]
) -> None:
    text = "申し訳ございません。この作品のタグは作成できませんでした。"
    model = ScriptedModel(text)
    result = await ModelAnalyzer(catalog, model, PRICES).analyze(curated[0].id, "tags")
    assert result.data is None
    assert not result.parsed
    assert result.raw_text == text
    assert result.cost_usd == pytest.approx((1000 * 0.25 + 200 * 1.25) / 1e6)


async def test_a_fenced_answer_is_parsed_and_invented_series_dropped(
    catalog: CatalogService, curated: list[SeriesRecord]
) -> None:
    record, other = curated[0], curated[1]
    text = (
        "おすすめは次のとおりです。\n```json\n"
        f'{{"recommendations": [{{"id": "{other.id}", "title_ja": "違う題名"}}, '
        f'{{"id": "MNG-ZZZZZZZZ", "title_ja": "存在しない漫画"}}, {{"id": "{record.id}"}}]}}'
        "\n```"
    )
    model = ScriptedModel(text)
    result = await ModelAnalyzer(catalog, model, PRICES).analyze(record.id, "recommendations")
    assert result.data == {
        "recommendations": [{"id": other.id, "title_en": other.title, "title_ja": other.title_ja}]
    }
    assert result.raw_text == text
    [request] = model.requests
    assert request.task is not None
    assert len(request.task.candidates) == 10
    assert record.title_ja in request.messages[0].text


async def test_a_model_failure_is_a_model_error(
    catalog: CatalogService, curated: list[SeriesRecord]
) -> None:
    analyzer = ModelAnalyzer(catalog, ScriptedModel(fail=True), PRICES)
    with pytest.raises(ModelError):
        await analyzer.analyze(curated[0].id, "synopsis")
