"""The curated catalog that ships in the package: complete, consistent, and as promised."""

from __future__ import annotations

from collections import Counter

import pytest

from mangaassist.domain.catalog import Genre, SeriesRecord, derive_id
from mangaassist.domain.isbn import is_valid_isbn13

#: Japanese titles the issue requires (the catalog's exact spelling).
REQUIRED = (
    "ONE PIECE", "NARUTO―ナルト―", "鬼滅の刃", "呪術廻戦", "進撃の巨人", "僕のヒーローアカデミア",
    "DRAGON BALL", "チェンソーマン", "SPY×FAMILY", "鋼の錬金術師", "DEATH NOTE", "HUNTER×HUNTER",
    "BLEACH", "葬送のフリーレン", "転生したらスライムだった件", "Re:ゼロから始める異世界生活",
    "この素晴らしい世界に祝福を！", "盾の勇者の成り上がり", "オーバーロード",
    "ソードアート・オンライン", "君に届け", "フルーツバスケット", "NANA",
    "美少女戦士セーラームーン",
    "桜蘭高校ホスト部", "ハチミツとクローバー", "ちはやふる", "ベルセルク", "ヴィンランド・サガ",
    "東京喰種トーキョーグール", "寄生獣", "3月のライオン", "ワンパンマン", "うずまき", "富江",
    "SLAM DUNK", "ハイキュー!!", "ブルーロック", "黒子のバスケ", "あしたのジョー", "よつばと！",
    "薬屋のひとりごと", "【推しの子】", "ダンジョン飯", "名探偵コナン", "AKIRA", "攻殻機動隊",
    "モブサイコ100",
)  # fmt: skip


def test_at_least_150_series(curated: list[SeriesRecord]) -> None:
    assert len(curated) >= 150


def test_at_least_12_series_per_genre(curated: list[SeriesRecord]) -> None:
    counts = Counter(r.genre for r in curated)
    assert {genre: counts[genre] >= 12 for genre in Genre} == dict.fromkeys(Genre, True)


def test_required_series_are_present(curated: list[SeriesRecord]) -> None:
    titles = {r.title_ja for r in curated}
    missing = [t for t in REQUIRED if not any(title.startswith(t) for title in titles)]
    assert missing == []


@pytest.mark.parametrize(
    ("title_ja", "author_ja"),
    [
        ("鬼滅の刃", "吾峠呼世晴"),
        ("葬送のフリーレン", "山田鐘人 / アベツカサ"),
        ("NANA", "矢沢あい"),
    ],
)
def test_authors_in_japanese(curated: list[SeriesRecord], title_ja: str, author_ja: str) -> None:
    [record] = [r for r in curated if r.title_ja == title_ja]
    assert record.author_ja == author_ja


def test_both_stock_answers_exist(curated: list[SeriesRecord]) -> None:
    assert any(r.stock == 0 for r in curated)
    assert any(r.stock > 0 for r in curated)


def test_ids_are_stable_and_unique(curated: list[SeriesRecord]) -> None:
    assert len({r.id for r in curated}) == len(curated)
    assert all(r.id == derive_id(r.title_ja, r.author_ja) for r in curated)


def test_isbns_are_valid_unique_and_synthetic_ones_marked(curated: list[SeriesRecord]) -> None:
    assert all(is_valid_isbn13(r.isbn) for r in curated)
    assert len({r.isbn for r in curated}) == len(curated)
    assert all(r.isbn_synthetic for r in curated if r.isbn.startswith("9784999"))


def test_every_series_is_bilingual_and_readable(curated: list[SeriesRecord]) -> None:
    for record in curated:
        readings = (record.synopsis_en, record.synopsis_ja, record.title_kana, record.title_romaji)
        assert all(readings), record.title
        assert record.author_romaji, record.title
