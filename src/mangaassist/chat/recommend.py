"""Choosing series to recommend: by genre, mood tag, similarity, or a varied general pick.

Pure functions over catalog records. In-stock series come first (a customer can buy them today),
then the strongest match, then long-running series (more volumes is the best popularity signal
the catalog has), then the title, so answers are stable and testable.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from mangaassist.domain.catalog import Genre, SeriesRecord

__all__ = ["recommend", "similarity"]


def similarity(a: SeriesRecord, b: SeriesRecord) -> float:
    """How alike two series are: shared tags, then genre and demographic."""
    tags_a, tags_b = set(a.tags), set(b.tags)
    union = tags_a | tags_b
    shared = len(tags_a & tags_b) / len(union) if union else 0.0
    return 3.0 * shared + 2.0 * (a.genre == b.genre) + 1.0 * (a.demographic == b.demographic)


def _popularity(record: SeriesRecord) -> float:
    return min(record.volumes, 100) / 100


def recommend(
    records: Sequence[SeriesRecord],
    *,
    genre: Genre | None = None,
    tag: str = "",
    similar_to: SeriesRecord | None = None,
    exclude_ids: Collection[str] = (),
    limit: int = 3,
) -> list[SeriesRecord]:
    """Up to ``limit`` series matching every given criterion, best first."""
    excluded = set(exclude_ids)
    if similar_to is not None:
        excluded.add(similar_to.id)
    pool = [
        r
        for r in records
        if r.id not in excluded
        and (genre is None or r.genre == genre)
        and (not tag or tag in r.tags)
    ]
    if similar_to is None and genre is None and not tag:
        return _varied(pool, limit)

    def key(record: SeriesRecord) -> tuple[bool, float, float, str]:
        match = similarity(record, similar_to) if similar_to is not None else 0.0
        return (not record.in_stock, -match, -_popularity(record), record.title)

    return sorted(pool, key=key)[:limit]


def _varied(pool: list[SeriesRecord], limit: int) -> list[SeriesRecord]:
    """One strong series per genre in turn: a general recommendation should show range."""
    by_genre: dict[Genre, list[SeriesRecord]] = {}
    for record in sorted(pool, key=lambda r: (not r.in_stock, -_popularity(r), r.title)):
        by_genre.setdefault(record.genre, []).append(record)
    picks: list[SeriesRecord] = []
    while len(picks) < limit and any(by_genre.values()):
        for genre in list(Genre):
            if by_genre.get(genre) and len(picks) < limit:
                picks.append(by_genre[genre].pop(0))
    return picks
