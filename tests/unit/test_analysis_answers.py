"""Reading analysis answers and the offline responder's JSON: what a store operator relies on."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mangaassist.analysis.answers import ground_series_lists, listed_ids, parse_answer
from mangaassist.analysis.prompts import JSON_SHAPES, build_request
from mangaassist.analysis.task import AnalysisTask
from mangaassist.domain.policy import StorePolicy
from mangaassist.llm.base import ModelMessage, ModelRequest
from mangaassist.llm.offline import OfflineModel
from mangaassist.llm.render_analysis import render_analysis
from mangaassist.text.token_estimate import estimate_tokens
from tests.conftest import make_record
from tests.samples import DEMON_SLAYER, FRIEREN, SLIME

KNOWN = {r.id: r for r in (DEMON_SLAYER, FRIEREN, SLIME)}


@pytest.mark.parametrize(
    "text",
    [
        '{"tags_en": ["action"], "tags_ja": ["アクション"]}',
        '```json\n{"tags_en": ["action"], "tags_ja": ["アクション"]}\n```',
        'Here you are:\n```\n{"tags_en": ["action"], "tags_ja": ["アクション"]}\n```\nEnjoy!',
        'Sure! {"tags_en": ["action"], "tags_ja": ["アクション"]} Hope this helps.',
    ],
)
def test_json_is_found_bare_fenced_or_in_prose(text: str) -> None:
    assert parse_answer(text) == {"tags_en": ["action"], "tags_ja": ["アクション"]}


@pytest.mark.parametrize(
    "text",
    ["申し訳ございません、お答えできません。", "", '["a", "b"]', "{not json}", "```json\n{\n```"],
)
def test_answers_without_a_json_object_are_none(text: str) -> None:
    assert parse_answer(text) is None


def test_only_catalog_series_other_than_the_series_itself_are_kept() -> None:
    data = {
        "recommendations": [
            {"id": FRIEREN.id, "title_en": "Frieren", "title_ja": "フリーレン", "reason_ja": "旅"},
            {"id": "MNG-INVENTED", "title_en": "A Made-Up Manga", "title_ja": "架空の漫画"},
            {"id": DEMON_SLAYER.id, "title_en": "itself"},
            {"id": FRIEREN.id, "title_en": "again"},
            "not an object",
            {"id": SLIME.id},
        ]
    }

    grounded = ground_series_lists(data, "recommendations", DEMON_SLAYER.id, KNOWN)

    items = grounded["recommendations"]
    assert [i["id"] for i in items] == [FRIEREN.id, SLIME.id]
    assert items[0]["title_ja"] == "葬送のフリーレン"  # the catalog's title, not the model's
    assert items[0]["reason_ja"] == "旅"
    assert items[1]["title_en"] == SLIME.title


def test_full_enrichment_similar_series_are_grounded_too() -> None:
    data: dict[str, Any] = {
        "genre_classification": {"genre": "shonen"},
        "similar_series": {"similar": [{"id": "MNG-NOTREAL1"}, {"id": SLIME.id}]},
    }
    assert listed_ids(data, "full_enrichment") == ["MNG-NOTREAL1", SLIME.id]

    grounded = ground_series_lists(data, "full_enrichment", DEMON_SLAYER.id, KNOWN)

    assert [i["id"] for i in grounded["similar_series"]["similar"]] == [SLIME.id]
    assert grounded["genre_classification"] == {"genre": "shonen"}
    assert data["similar_series"]["similar"][0]["id"] == "MNG-NOTREAL1"  # input left alone


def test_every_type_has_a_prompt_asking_for_its_json_shape() -> None:
    for analysis_type, shape in JSON_SHAPES.items():
        request = build_request(AnalysisTask(analysis_type, FRIEREN, (SLIME,)), "巻数を重視")
        prompt = request.messages[0].text
        assert shape in prompt
        assert "葬送のフリーレン" in prompt
        assert SLIME.id in prompt
        assert "巻数を重視" in prompt
        assert "JSON" in request.system
    with pytest.raises(ValueError, match="unknown analysis type"):
        build_request(AnalysisTask("horoscope", FRIEREN))


@pytest.mark.parametrize(
    ("demographic", "rating", "level", "furigana"),
    [
        ("kodomo", "all", "children", True),
        ("shonen", "13+", "teen", True),
        ("seinen", "all", "adult", False),
        ("shoujo", "16+", "older_teen", True),
        ("josei", "18+", "adult", False),
    ],
)
def test_offline_reading_level_follows_demographic_and_age_rating(
    demographic: str, rating: str, level: str, furigana: bool
) -> None:
    record = make_record(demographic=demographic, age_rating=rating)
    answer = json.loads(render_analysis(AnalysisTask("reading_level", record)))
    assert answer["reading_level"] == level
    assert answer["furigana"] is furigana
    assert answer["recommended_age"] >= {"all": 0, "13+": 13, "16+": 16, "18+": 18}[rating]


def test_offline_tags_are_the_records_in_both_languages() -> None:
    answer = json.loads(render_analysis(AnalysisTask("tags", DEMON_SLAYER)))
    assert answer["tags_en"] == ["shonen", "action", "tearjerker"]
    assert answer["tags_ja"] == ["少年漫画", "アクション", "泣ける"]


def test_offline_model_answers_a_task_with_json_and_a_chat_request_with_text() -> None:
    model = OfflineModel(StorePolicy(), estimate_tokens)
    task_request = build_request(AnalysisTask("synopsis", FRIEREN))
    chat_request = ModelRequest(system="s", messages=(ModelMessage("user", "こんにちは"),))

    synopsis = json.loads(model.answer_text(task_request))

    assert synopsis["synopsis_ja"].startswith(FRIEREN.synopsis_ja)
    assert "『葬送のフリーレン』" in synopsis["synopsis_ja"]
    assert synopsis["synopsis_en"].startswith(FRIEREN.synopsis_en)
    assert not model.answer_text(chat_request).lstrip().startswith("{")
