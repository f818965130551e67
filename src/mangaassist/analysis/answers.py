"""Reading a model's analysis answer: the JSON object in it, and only catalog series in its lists.

Models often wrap JSON in a Markdown fence or add a sentence around it; the object is taken from
the fence, else from the first ``{`` to the last ``}``. An answer without a JSON object is kept
as raw text by the caller (``data`` None), never guessed at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from mangaassist.domain.catalog import SeriesRecord

__all__ = ["SERIES_LISTS", "ground_series_lists", "listed_ids", "parse_answer"]

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)

#: Where each analysis type lists other series: the path of keys to the list.
SERIES_LISTS: dict[str, tuple[str, ...]] = {
    "similar_series": ("similar",),
    "recommendations": ("recommendations",),
    "full_enrichment": ("similar_series", "similar"),
}


def _object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parse_answer(text: str) -> dict[str, Any] | None:
    """The JSON object of an answer (bare, fenced or embedded in prose), or None."""
    stripped = text.strip()
    candidates = [stripped, *(m.group(1).strip() for m in _FENCE.finditer(stripped))]
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    for candidate in candidates:
        value = _object(candidate)
        if value is not None:
            return value
    return None


def _list_at(data: Mapping[str, Any], path: tuple[str, ...]) -> list[Any]:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping):
            return []
        node = node.get(key)
    return node if isinstance(node, list) else []


def listed_ids(data: Mapping[str, Any], analysis_type: str) -> list[str]:
    """The series ids an answer lists (similar series, recommendations), as given."""
    path = SERIES_LISTS.get(analysis_type)
    if path is None:
        return []
    items = _list_at(data, path)
    return [
        item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)
    ]


def _grounded(items: list[Any], series_id: str, known: Mapping[str, SeriesRecord]) -> list[Any]:
    kept: list[Any] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        record = known.get(item.get("id", ""))
        if record is None or record.id == series_id or record.id in seen:
            continue
        seen.add(record.id)
        # Titles come from the catalog: a model may misspell or invent them, the store may not.
        kept.append({**item, "title_en": record.title, "title_ja": record.title_ja})
    return kept


def ground_series_lists(
    data: dict[str, Any], analysis_type: str, series_id: str, known: Mapping[str, SeriesRecord]
) -> dict[str, Any]:
    """``data`` with its series lists keeping only catalog series (``known``), never the series
    itself, each once, titled as the catalog titles them."""
    path = SERIES_LISTS.get(analysis_type)
    if path is None:
        return data
    items = _list_at(data, path)
    grounded = _grounded(items, series_id, known)
    result = dict(data)
    node = result
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            return result  # no list there: nothing to ground
        node[key] = dict(child)
        node = node[key]
    if path[-1] in node:
        node[path[-1]] = grounded
    return result
