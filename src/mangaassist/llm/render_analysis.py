"""JSON answers of the offline responder to catalog analysis tasks, from the series record.

Every field comes from the catalog: genre and tags from the record, summaries and synopses from
its synopses, reading level from its demographic and age rating, similar series from the
candidates the analyzer chose with the chat's recommendation logic. The shapes are those of
``mangaassist.analysis.prompts.JSON_SHAPES``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mangaassist.analysis.task import AnalysisTask
from mangaassist.catalog.labels import TAG_LABELS
from mangaassist.domain.catalog import AgeRating, Demographic, SeriesRecord
from mangaassist.text.scripts import has_japanese

__all__ = ["render_analysis"]

#: Similar series and recommendations per answer (the design documents ask for 5).
SIMILAR_LIMIT = 5

GENRE_JA = {
    "shonen": "少年漫画", "shoujo": "少女漫画", "seinen": "青年漫画", "josei": "女性漫画",
    "isekai": "異世界もの", "horror": "ホラー漫画", "sports": "スポーツ漫画",
}  # fmt: skip
_TAG_JA_OVERRIDES = {"sci_fi": "SF"}
#: Magazines for these readerships print furigana on every kanji (総ルビ); the rest do not.
_FURIGANA = frozenset({Demographic.KODOMO, Demographic.SHONEN, Demographic.SHOUJO})
_AGE_OF_RATING = {AgeRating.ALL: 0, AgeRating.TEEN: 13, AgeRating.MATURE: 16, AgeRating.ADULT: 18}
_AGE_OF_READERSHIP = {
    Demographic.KODOMO: 6, Demographic.SHONEN: 10, Demographic.SHOUJO: 10,
    Demographic.SEINEN: 16, Demographic.JOSEI: 16,
}  # fmt: skip
_KANJI = {Demographic.KODOMO: "low", Demographic.SHONEN: "medium", Demographic.SHOUJO: "medium"}
_LEVEL_JA = {
    "children": "児童向け", "teen": "中高生向け",
    "older_teen": "高校生以上向け", "adult": "大人向け",
}  # fmt: skip


def tag_ja(tag: str) -> str:
    """The Japanese word customers use for a catalog tag (「泣ける」 for tearjerker)."""
    if tag in _TAG_JA_OVERRIDES:
        return _TAG_JA_OVERRIDES[tag]
    words = [word for word in TAG_LABELS.get(tag, "").split() if has_japanese(word)]
    return words[0] if words else tag


def _genre(record: SeriesRecord) -> dict[str, Any]:
    return {
        "genre": record.genre.value,
        "genre_ja": GENRE_JA[record.genre],
        "demographic": record.demographic.value,
        "tags": list(record.tags),
        "confidence": 1.0,  # read from the catalog record, not guessed
    }


def _summary(record: SeriesRecord) -> dict[str, Any]:
    return {
        "summary_ja": record.synopsis_ja,
        "summary_en": record.synopsis_en,
        "themes": list(record.tags),
    }


def _reason(record: SeriesRecord, other: SeriesRecord) -> tuple[str, str]:
    shared = [tag for tag in other.tags if tag in record.tags]
    reason_en, reason_ja = [], []
    if other.genre == record.genre:
        reason_en.append(f"also {record.genre.value}")
        reason_ja.append(f"同じ{GENRE_JA[record.genre]}")
    if shared:
        reason_en.append("shares " + ", ".join(t.replace("_", " ") for t in shared[:3]))
        reason_ja.append("「" + "」「".join(tag_ja(t) for t in shared[:3]) + "」の要素が共通")
    if not reason_en:
        reason_en.append(f"for {record.demographic.value} readers too")
        reason_ja.append("同じ読者層におすすめ")
    return "; ".join(reason_en).capitalize() + ".", "、".join(reason_ja) + "です。"


def _similar_items(task: AnalysisTask) -> list[dict[str, Any]]:
    items = []
    for other in task.candidates[:SIMILAR_LIMIT]:
        reason_en, reason_ja = _reason(task.series, other)
        items.append(
            {
                "id": other.id,
                "title_en": other.title,
                "title_ja": other.title_ja,
                "reason_en": reason_en,
                "reason_ja": reason_ja,
            }
        )
    return items


def _level(record: SeriesRecord) -> dict[str, Any]:
    rated = _AGE_OF_RATING[record.age_rating]
    if rated >= 18:
        level = "adult"
    elif rated >= 16:
        level = "older_teen"
    elif record.demographic == Demographic.KODOMO:
        level = "children"
    elif record.demographic in (Demographic.SHONEN, Demographic.SHOUJO):
        level = "teen"
    else:
        level = "adult"
    age = max(rated, _AGE_OF_READERSHIP[record.demographic])
    furigana = record.demographic in _FURIGANA
    ruby_ja = "漢字にふりがなが付いています" if furigana else "ふりがなはほとんどありません"
    ruby_en = "kanji carry furigana" if furigana else "little furigana"
    return {
        "reading_level": level,
        "reading_level_ja": _LEVEL_JA[level],
        "recommended_age": age,
        "furigana": furigana,
        "kanji_difficulty": _KANJI.get(record.demographic, "high"),
        "note_ja": f"{GENRE_JA[record.genre]}（年齢区分：{record.age_rating.value}）で、{ruby_ja}。"
        f"{age}歳以上の方におすすめです。",
        "note_en": f"A {record.demographic.value} series rated {record.age_rating.value}; "
        f"{ruby_en}. Suits readers aged {age} and up.",
    }


def _synopsis(record: SeriesRecord) -> dict[str, Any]:
    if record.status == "completed":
        run_ja, run_en = f"全{record.volumes}巻で完結しています", f"complete in {record.volumes}"
    else:
        run_ja, run_en = f"現在{record.volumes}巻まで発売中です", f"ongoing at {record.volumes}"
    return {
        "synopsis_ja": f"{record.synopsis_ja}\n\n"
        f"『{record.title_ja}』は{record.author_ja}先生による{GENRE_JA[record.genre]}で、{record.release_year}年に連載が始まり、{run_ja}。",
        "synopsis_en": f"{record.synopsis_en}\n\n{record.title} is a {record.genre.value} "
        f"series by {record.author}, first published in {record.release_year} and "
        f"{run_en} volumes.",
    }


def _tags(record: SeriesRecord) -> dict[str, Any]:
    tags = list(dict.fromkeys([record.genre.value, *record.tags]))
    return {
        "tags_en": [tag.replace("_", " ") for tag in tags],
        "tags_ja": [GENRE_JA[record.genre], *(tag_ja(tag) for tag in tags[1:])],
    }


_BY_TYPE: dict[str, Callable[[AnalysisTask], dict[str, Any]]] = {
    "genre_classification": lambda t: _genre(t.series),
    "content_summary": lambda t: _summary(t.series),
    "similar_series": lambda t: {"similar": _similar_items(t)},
    "reading_level": lambda t: _level(t.series),
    "synopsis": lambda t: _synopsis(t.series),
    "tags": lambda t: _tags(t.series),
    "recommendations": lambda t: {"recommendations": _similar_items(t)},
}


def render_analysis(task: AnalysisTask) -> str:
    """The JSON answer to ``task`` (Japanese kept as is, not escaped)."""
    answer: dict[str, Any]
    if task.analysis_type == "full_enrichment":
        parts = ("genre_classification", "content_summary", "similar_series", "reading_level")
        answer = {part: _BY_TYPE[part](task) for part in parts}
    elif task.analysis_type in _BY_TYPE:
        answer = _BY_TYPE[task.analysis_type](task)
    else:
        answer = {"error": f"unknown analysis type {task.analysis_type}"}
    return json.dumps(answer, ensure_ascii=False)
