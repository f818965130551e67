"""Words customers use for genres and tags, in Japanese and English, so they are searchable."""

from __future__ import annotations

from mangaassist.domain.catalog import Genre

__all__ = ["GENRE_LABELS", "TAG_LABELS", "labels_text"]

GENRE_LABELS: dict[str, str] = {
    Genre.SHONEN: "shonen shounen 少年 少年漫画 バトル",
    Genre.SHOUJO: "shoujo shojo 少女 少女漫画",
    Genre.SEINEN: "seinen 青年 青年漫画 大人向け",
    Genre.JOSEI: "josei 女性 女性漫画 大人の恋愛",
    Genre.ISEKAI: "isekai 異世界 異世界転生 転生",
    Genre.HORROR: "horror ホラー 怖い 恐怖",
    Genre.SPORTS: "sports sport スポーツ 部活",
}

TAG_LABELS: dict[str, str] = {
    "action": "action アクション バトル",
    "adventure": "adventure 冒険",
    "comedy": "comedy funny コメディ ギャグ 笑える",
    "drama": "drama ドラマ",
    "romance": "romance love 恋愛 ラブコメ ラブストーリー",
    "fantasy": "fantasy ファンタジー",
    "dark_fantasy": "dark fantasy ダークファンタジー",
    "sci_fi": "sci fi science fiction sf SF",
    "mystery": "mystery ミステリー 推理 謎",
    "thriller": "thriller サスペンス スリラー",
    "psychological": "psychological 心理戦 頭脳戦",
    "supernatural": "supernatural 超常 妖怪 霊",
    "slice_of_life": "slice of life 日常",
    "historical": "historical history 歴史 時代劇",
    "school": "school 学園 学校",
    "martial_arts": "martial arts 格闘 武術",
    "music": "music 音楽 バンド",
    "cooking": "cooking food 料理 グルメ 飯",
    "mecha": "mecha robot ロボット メカ",
    "military": "military war 軍事 戦争",
    "survival": "survival サバイバル",
    "post_apocalyptic": "post apocalyptic 終末 荒廃",
    "game": "game ゲーム",
    "reincarnation": "reincarnation reincarnated 転生",
    "magic": "magic 魔法",
    "monsters": "monsters モンスター 怪物 魔物",
    "detective": "detective 探偵",
    "crime": "crime 犯罪",
    "family": "family 家族",
    "coming_of_age": "coming of age 青春 成長",
    "workplace": "workplace work お仕事 職場",
    "idol": "idol アイドル 芸能",
    "art": "art 美術 芸術",
    "gore": "gore グロ",
    "scary": "scary 怖い",
    "tearjerker": "tearjerker sad 泣ける 涙",
    "heartwarming": "heartwarming touching 感動 心温まる",
    "inspiring": "inspiring 熱い 元気が出る",
    "iyashikei": "iyashikei healing 癒し",
}


def labels_text(genre: str, demographic: str, tags: tuple[str, ...]) -> str:
    """Searchable text for a series' genre, demographic and tags in both languages."""
    parts = [GENRE_LABELS.get(genre, genre), demographic]
    parts.extend(TAG_LABELS.get(tag, tag.replace("_", " ")) for tag in tags)
    return " ".join(parts)
