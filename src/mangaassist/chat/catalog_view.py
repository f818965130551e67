"""The catalog as the chat planner sees it: records by id, title and author matchers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from mangaassist.chat.names import NameMatcher
from mangaassist.domain.catalog import SeriesRecord

__all__ = ["CatalogView", "title_names"]

_PEOPLE_SEPARATOR = " / "
#: Shortest Latin family name that may stand for its author on its own.
MIN_FAMILY_NAME = 5


def title_names(record: SeriesRecord) -> Iterator[str]:
    yield from (record.title, record.title_ja, record.title_romaji, *record.aliases)
    if len(record.title_kana) >= 3:
        yield record.title_kana
    for separator in (":", " -", "―"):  # "Frieren: Beyond Journey's End" -> "Frieren"
        for full in (record.title, record.title_ja):
            head = full.split(separator)[0].strip()
            if head and head != full:
                yield head


def _people(record: SeriesRecord) -> list[tuple[str, list[str]]]:
    """(canonical Japanese name, every way of writing it) per credited person."""
    columns = [
        field.split(_PEOPLE_SEPARATOR)
        for field in (record.author_ja, record.author, record.author_romaji, record.author_kana)
    ]
    people: list[tuple[str, list[str]]] = []
    for i, name_ja in enumerate(columns[0]):
        forms = [column[i].strip() for column in columns if i < len(column) and column[i]]
        if len(columns[2]) > i:  # the family name alone ("Togashi"), from family-first romaji
            family = columns[2][i].split()[0] if columns[2][i].split() else ""
            if len(family) >= MIN_FAMILY_NAME:
                forms.append(family)
        people.append((name_ja.strip(), forms))
    return people


class CatalogView:
    """An immutable view over one catalog version, built once per version."""

    def __init__(self, records: Sequence[SeriesRecord], version: int) -> None:
        self.version = version
        self.records = list(records)
        self.by_id = {r.id: r for r in self.records}
        self.titles = NameMatcher((name, r.id) for r in self.records for name in title_names(r))
        works: dict[str, list[str]] = defaultdict(list)
        english: dict[str, str] = {}
        names: list[tuple[str, str]] = []
        for record in self.records:
            for canonical, forms in _people(record):
                works[canonical].append(record.id)
                english.setdefault(canonical, forms[1] if len(forms) > 1 else canonical)
                names.extend((form, canonical) for form in forms)
        self.works = dict(works)
        self.author_english = english
        self.authors = NameMatcher(names)

    def names_in(self, text: str) -> tuple[list[SeriesRecord], list[str]]:
        """Series and (canonical Japanese) author names that occur in ``text``, in text order.

        An author name inside a title belongs to the title: "ONE PIECE" names the series, not
        the author ONE.
        """
        title_matches = self.titles.find(text)
        author_matches = [
            m
            for m in self.authors.find(text)
            if all(m.end <= t.start or m.start >= t.end for t in title_matches)
        ]
        series = list({m.owner: self.by_id[m.owner] for m in title_matches}.values())
        return series, list(dict.fromkeys(m.owner for m in author_matches))
