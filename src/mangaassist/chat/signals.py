"""Words that reveal what a customer wants, in Japanese and English, and the values they carry.

Every keyword is folded like the message (katakana to hiragana, width and case folded), so
"オススメ", "ｵｽｽﾒ" and "おすすめ" are one keyword.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import regex

from mangaassist.domain.catalog import Genre
from mangaassist.text.fold import fold

__all__ = [
    "GENRE_WORDS",
    "SIGNALS",
    "TAG_WORDS",
    "find_genre",
    "find_tag",
    "find_volume",
    "has_signal",
    "mentions_latest_volume",
]


def _word_pattern(words: tuple[str, ...]) -> regex.Pattern[str]:
    """Japanese keywords match anywhere; Latin ones as whole words, or as word starts when the
    keyword ends with ``*`` ("reincarnat*" finds reincarnated and reincarnation)."""
    parts: list[str] = []
    for word in sorted(words, key=len, reverse=True):
        if not word.isascii():
            parts.append(regex.escape(word))
        elif word.endswith("*"):
            parts.append(rf"(?<![a-z0-9]){regex.escape(word[:-1])}")
        else:
            parts.append(rf"(?<![a-z0-9]){regex.escape(word)}(?![a-z0-9])")
    return regex.compile("|".join(parts))


def _folded(words: Iterable[str]) -> tuple[str, ...]:
    """Keywords folded like messages; a trailing ``*`` (prefix marker) survives folding."""
    return tuple(fold(w) + ("*" if w.endswith("*") else "") for w in words)


_RAW_SIGNALS: dict[str, tuple[str, ...]] = {
    "shipping": ("送料", "配送", "発送", "届く", "届きます", "到着", "お届け", "shipping", "ship",
                 "delivery", "deliver", "arrive"),
    "returns": ("返品", "交換", "返金", "キャンセル", "return", "refund", "exchange", "damaged"),
    "payment": ("支払", "決済", "クレジット", "paypay", "コンビニ払", "代引", "代金引換", "pay",
                "payment", "credit card", "paypal", "cash on delivery", "apple pay"),
    "stock": ("在庫", "売り切れ", "品切れ", "入荷", "値段", "価格", "いくら", "何円", "in stock",
              "sold out", "out of stock", "price", "how much", "cost"),
    "have": ("ありますか", "あります", "買えます", "買いたい", "手に入", "do you have",
             "do you carry", "available", "buy", "get"),
    "recommend": ("おすすめ", "お勧め", "お薦め", "読みたい", "探して", "探しています", "似た",
                  "みたいな", "ような", "読むべき", "recommend*", "suggest*", "similar",
                  "something like", "looking for", "want to read", "any good",
                  "what should i read", "like"),
    "ask": ("教えて", "紹介", "知りたい", "ある", "ない", "something", "anything", "any"),
    "others": ("他には", "ほかには", "他に", "ほかに", "他にも", "ほかにも", "別の", "others",
               "any other", "anything else", "something else", "more like", "another one"),
    "author_works": ("作品", "描いた", "書いた", "著作", "以外", "works", "wrote", "written by",
                     "books by", "manga by", "series by", "other series", "else did", "drawn",
                     "draw", "besides", "other than", "by the same"),
    "title_info": ("どんな", "あらすじ", "内容", "作者", "誰", "何巻", "完結", "話", "ストーリー",
                   "about", "who wrote", "author", "how many volumes", "plot", "story", "finished",
                   "completed", "ongoing", "what is", "tell me"),
    "greeting": ("こんにちは", "こんばんは", "おはよう", "はじめまして", "やあ", "hello", "hi",
                 "hey", "good morning", "good evening", "good afternoon"),
    "thanks": ("ありがとう", "助かりました", "サンキュー", "感謝", "thank", "thanks", "thx",
               "appreciate"),
    "manga": ("漫画", "マンガ", "まんが", "コミック", "巻", "作品", "本", "シリーズ", "manga",
              "comic", "volume", "book", "series", "title", "read"),
    "context": ("その", "それ", "この作品", "これ", "あれ", "同じ", "the same", "that one", "it",
                "this one", "that series", "its", "this", "that"),
    "out_of_scope": ("天気", "ニュース", "株価", "首都", "プログラム", "コード", "ラーメン屋",
                     "レストラン", "翻訳", "weather", "python", "script", "code", "capital of",
                     "news", "stock market", "restaurant", "translate", "recipe", "president",
                     "homework", "ramen", "pizza", "who won", "place to eat", "movie",
                     "映画", "試合結果", "ピザ"),
}  # fmt: skip

SIGNALS: dict[str, regex.Pattern[str]] = {
    name: _word_pattern(_folded(words)) for name, words in _RAW_SIGNALS.items()
}

GENRE_WORDS: Mapping[Genre, tuple[str, ...]] = {
    Genre.ISEKAI: _folded(("異世界", "いせかい", "転生もの", "isekai", "another world",
                           "other world", "reincarnat*")),
    Genre.HORROR: _folded(("ホラー", "恐怖", "horror")),
    Genre.SPORTS: _folded(("スポーツ", "部活", "バスケ", "サッカー", "野球", "バレー", "テニス",
                           "ボクシング", "sports", "sport", "basketball", "soccer", "football",
                           "baseball", "volleyball", "tennis", "boxing")),
    Genre.SHOUJO: _folded(("少女漫画", "少女マンガ", "少女向け", "shoujo", "shojo")),
    Genre.JOSEI: _folded(("女性向け", "女性漫画", "大人の女性", "josei")),
    Genre.SEINEN: _folded(("青年漫画", "青年マンガ", "大人向け", "seinen")),
    Genre.SHONEN: _folded(("少年漫画", "少年マンガ", "ジャンプ", "バトル", "shonen", "shounen",
                           "battle")),
}  # fmt: skip

TAG_WORDS: Mapping[str, tuple[str, ...]] = {
    "tearjerker": _folded(("泣ける", "泣きたい", "泣い", "涙", "号泣", "切ない", "tearjerker",
                           "make me cry", "cry", "sad")),
    "heartwarming": _folded(("感動", "心温まる", "ほっこり", "温かい", "heartwarming", "touching",
                             "feel-good", "feel good", "wholesome", "moving")),
    "comedy": _folded(("笑える", "笑いたい", "ギャグ", "コメディ", "爆笑", "funny", "comedy",
                       "laugh", "hilarious")),
    "scary": _folded(("怖い", "こわい", "ゾッと", "ぞっと", "scary", "creepy", "terrifying",
                      "frightening")),
    "iyashikei": _folded(("癒し", "癒され", "ゆるい", "のんびり", "relaxing", "healing", "cozy",
                          "chill", "calm")),
    "inspiring": _folded(("熱い", "燃える", "元気が出る", "元気になる", "inspiring", "hype",
                          "motivat", "uplifting")),
    "romance": _folded(("恋愛", "ラブコメ", "胸キュン", "ラブストーリー", "romance", "romantic",
                        "love story", "romcom")),
    "mystery": _folded(("ミステリー", "推理", "謎解き", "mystery", "detective")),
    "cooking": _folded(("料理", "グルメ", "cooking", "food")),
}  # fmt: skip

_GENRE_PATTERNS = {genre: _word_pattern(words) for genre, words in GENRE_WORDS.items()}
_TAG_PATTERNS = {tag: _word_pattern(words) for tag, words in TAG_WORDS.items()}
_VOLUME = regex.compile(r"第?\s*(\d{1,4})\s*巻|(?:vol(?:ume)?\.?|#)\s*(\d{1,4})")
_LATEST = regex.compile(r"最新刊|最新巻|新刊|最新の巻|latest|newest|new volume|most recent")


def has_signal(folded: str, name: str) -> bool:
    """True when the folded message carries the named signal."""
    return SIGNALS[name].search(folded + " ") is not None


def find_genre(folded: str) -> Genre | None:
    """The genre the message asks for, if any."""
    for genre, pattern in _GENRE_PATTERNS.items():
        if pattern.search(folded):
            return genre
    return None


def find_tag(folded: str) -> str:
    """The mood or theme tag the message asks for, or ``""``."""
    for tag, pattern in _TAG_PATTERNS.items():
        if pattern.search(folded):
            return tag
    return ""


def find_volume(folded: str) -> int | None:
    """The volume number asked about (２巻, vol. 12, volume 3), if any."""
    match = _VOLUME.search(folded)
    if match is None:
        return None
    return int(match.group(1) or match.group(2))


def mentions_latest_volume(folded: str) -> bool:
    """True for 最新刊 / latest volume."""
    return _LATEST.search(folded) is not None
