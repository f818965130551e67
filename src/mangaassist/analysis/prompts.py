"""Prompts of catalog analysis: the store's context, one task per type, the JSON shape it asks for.

Every prompt asks for exactly one JSON object; ``JSON_SHAPES`` documents each shape (and
docs/enrichment.md repeats them). The series record and, for similar series and
recommendations, the candidate series are given as JSON, so a model names only catalog series.
"""

from __future__ import annotations

import json
from typing import Any

from mangaassist.analysis.task import AnalysisTask
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.llm.base import ModelMessage, ModelRequest

__all__ = ["JSON_SHAPES", "SYSTEM_PROMPT", "build_request"]

#: The store's context: who is asking, in which voice, and that the answer is JSON only.
SYSTEM_PROMPT = (
    "あなたは日本の漫画専門オンラインストア「MangaAssist」の商品データ担当アシスタントです。"
    "お客様に表示する商品情報（あらすじ、タグ、おすすめ作品、対象年齢）を作成します。"
    "日本語の文章は丁寧語（です・ます調）で書き、作品名は日本語の正式タイトルを使ってください。"
    "与えられたカタログ情報だけを根拠にし、カタログにない作品や事実を作らないでください。"
    "You write product data for a Japanese manga web store. Answer with exactly one JSON object "
    "of the requested shape, with no text before or after it."
)

_SIMILAR_ITEM = (
    '{"id": "MNG-XXXXXXXX (a candidate id)", "title_en": str, "title_ja": str, '
    '"reason_en": str, "reason_ja": str}'
)
_GENRE = (
    '{"genre": "shonen|shoujo|seinen|josei|isekai|horror|sports", "genre_ja": str, '
    '"demographic": str, "tags": [catalog tags], "confidence": 0.0-1.0}'
)
_SUMMARY = '{"summary_ja": str, "summary_en": str, "themes": [catalog tags]}'
_SIMILAR = '{"similar": [' + _SIMILAR_ITEM + ", ... up to 5]}"
_LEVEL = (
    '{"reading_level": "children|teen|older_teen|adult", "reading_level_ja": str, '
    '"recommended_age": int, "furigana": bool, "kanji_difficulty": "low|medium|high", '
    '"note_ja": str, "note_en": str}'
)

#: The JSON object each analysis type asks for.
JSON_SHAPES: dict[str, str] = {
    "genre_classification": _GENRE,
    "content_summary": _SUMMARY,
    "similar_series": _SIMILAR,
    "reading_level": _LEVEL,
    "full_enrichment": (
        f'{{"genre_classification": {_GENRE}, "content_summary": {_SUMMARY}, '
        f'"similar_series": {_SIMILAR}, "reading_level": {_LEVEL}}}'
    ),
    "synopsis": '{"synopsis_ja": str (2 paragraphs), "synopsis_en": str (2 paragraphs)}',
    "tags": '{"tags_en": [5-10 str], "tags_ja": [the same tags in Japanese]}',
    "recommendations": '{"recommendations": [' + _SIMILAR_ITEM + ", ... 5 items]}",
}

_TASKS: dict[str, str] = {
    "genre_classification": "この作品のジャンル、読者層、テーマのタグを分類してください。",
    "content_summary": (
        "この作品の内容を日本語と英語で2〜3文に要約し、主なテーマを挙げてください。"
    ),
    "similar_series": (
        "候補作品の中から、この作品が好きなお客様に似ている作品を最大5つ選び、"
        "理由を添えてください。"
    ),
    "reading_level": (
        "読者層と年齢区分から、対象年齢、ふりがなの有無、漢字の難しさを判定してください。"
    ),
    "full_enrichment": (
        "ジャンル分類、内容の要約、似ている作品、対象年齢のすべてを作成してください。"
    ),
    "synopsis": "商品ページ用に、魅力が伝わる2段落のあらすじを日本語と英語で書いてください。",
    "tags": "検索と絞り込みに使うタグを5〜10個、英語と日本語で作成してください。",
    "recommendations": (
        "候補作品の中から、この作品のファンにおすすめの作品を5つ選び、理由を添えてください。"
    ),
}

#: Longest answer per type, in tokens: full enrichment holds four answers.
_MAX_TOKENS = {"full_enrichment": 2048}
DEFAULT_MAX_TOKENS = 1024
#: Low: the answer is data, not prose to vary (the design documents' batch processor uses 0.2).
TEMPERATURE = 0.2


def _series_json(record: SeriesRecord, *, full: bool) -> dict[str, Any]:
    keys = ["id", "title", "title_ja", "genre", "demographic", "tags"]
    if full:
        keys += ["author", "author_ja", "volumes", "status", "release_year", "age_rating"]
        keys += ["synopsis_ja", "synopsis_en"]
    data = record.model_dump(mode="json")
    return {key: data[key] for key in keys}


def _user_message(task: AnalysisTask, additional_context: str | None) -> str:
    parts = [
        f"作業 / task: {task.analysis_type}",
        _TASKS[task.analysis_type],
        f"JSON shape: {JSON_SHAPES[task.analysis_type]}",
        "作品 / series:",
        json.dumps(_series_json(task.series, full=True), ensure_ascii=False),
    ]
    if task.candidates:
        parts.append("候補作品 / candidates (choose only from these ids):")
        parts.extend(
            json.dumps(_series_json(c, full=False), ensure_ascii=False) for c in task.candidates
        )
    if additional_context:
        parts.append(f"追加の指示 / additional context: {additional_context}")
    return "\n".join(parts)


def build_request(task: AnalysisTask, additional_context: str | None = None) -> ModelRequest:
    """The model request of ``task``: store context, the task, its JSON shape, its grounding."""
    if task.analysis_type not in _TASKS:
        raise ValueError(f"unknown analysis type {task.analysis_type!r}")
    return ModelRequest(
        system=SYSTEM_PROMPT,
        messages=(ModelMessage("user", _user_message(task, additional_context)),),
        max_tokens=_MAX_TOKENS.get(task.analysis_type, DEFAULT_MAX_TOKENS),
        temperature=TEMPERATURE,
        task=task,
    )
