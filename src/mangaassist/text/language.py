"""Which language a customer writes in, from the share of Japanese among the letters.

Titles cross scripts both ways: "Is ワンピース in stock?" is English with a Japanese title, and
"ONE PIECEの最新刊は在庫ありますか？" is Japanese with a Latin one. Counting letters decides both,
because the sentence around the title outweighs it.
"""

from __future__ import annotations

from typing import Final, Literal

import regex

from mangaassist.text.scripts import JAPANESE_CHAR

__all__ = ["JAPANESE_SHARE_THRESHOLD", "Language", "detect_language", "japanese_share"]

Language = Literal["ja", "en"]

#: A message is Japanese when at least half its letters are Japanese. A Japanese character
#: carries more than a Latin letter (ワンピース is 5 against the 8 of "One Piece"), which is why
#: a katakana title in an English sentence ("Is ワンピース in stock?", 5 of 14) stays below a
#: majority, while a Japanese sentence around a lower-case title ("Frierenの12巻ありますか",
#: 7 of 14) reaches it. Ties go to Japanese for that same density.
JAPANESE_SHARE_THRESHOLD: Final = 0.5

_LATIN_LETTER = regex.compile(r"\p{Latin}")
#: A word in capitals (ONE PIECE, SPY×FAMILY, HUNTER×HUNTER): how Japanese text writes a Latin
#: title. Such words say nothing about the sentence around them, so the decision leaves them out;
#: otherwise "HUNTER×HUNTERの37巻ある？" (4 Japanese, 12 Latin) would read as English.
_CAPITALIZED_TITLE = regex.compile(r"(?V1)(?<!\p{Latin})[\p{Latin}&&\p{Lu}]{2,}(?!\p{Latin})")


#: Ideographic punctuation and full-width forms (？！。、「」…) typed on a Japanese keyboard.
_JAPANESE_PUNCTUATION = regex.compile(r"[\u3000-\u303F\uFF01-\uFF0F\uFF1A-\uFF20\uFF5B-\uFF65]")


def japanese_share(text: str) -> float:
    """Japanese characters over Japanese characters plus Latin letters; 0.0 when there are none.

    Japanese characters are kana (full and half width), kanji, ー and 々; digits, punctuation and
    emoji count for neither side.
    """
    japanese = len(JAPANESE_CHAR.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    total = japanese + latin
    return japanese / total if total else 0.0


def detect_language(text: str) -> Language:
    """``"ja"`` when Japanese makes up at least half the letters, else ``"en"``.

    Latin words written entirely in capitals are left out first, since Japanese text writes
    Latin titles that way. The price is that an English message typed all in capitals around a
    Japanese title ("IS ワンピース IN STOCK?") reads as Japanese; such messages are rare. A
    message with no letters at all is English (``"123 !!!"``, ``"👍"``), the shop's default for
    anything it cannot tell, unless it is written with Japanese full-width punctuation
    (``"？"``, ``"。。。"``), which only a Japanese keyboard produces.
    """
    stripped = _CAPITALIZED_TITLE.sub(" ", text)
    if not JAPANESE_CHAR.search(stripped) and not _LATIN_LETTER.search(stripped):
        return "ja" if _JAPANESE_PUNCTUATION.search(text) else "en"
    share = japanese_share(stripped)
    return "ja" if share >= JAPANESE_SHARE_THRESHOLD else "en"
