"""Folding of text for search: width, case, kana and romanization variants compare equal.

A customer may type ワンピース, ﾜﾝﾋﾟｰｽ, わんぴーす or ＯＮＥ ＰＩＥＣＥ for the same series, and
"Oda Eiichirō", "oda eiichirou" or "ODA EIICHIRO" for the same author. Folding maps every such
variant to one form, applied identically to the index and to the query.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

__all__ = ["fold", "fold_romaji_word", "strip_diacritics"]

#: Punctuation and symbols that separate words; CJK brackets and the middle dot included.
_SEPARATORS = regex.compile(r"[\p{P}\p{S}\p{Z}\s]+")
#: Katakana ァ..ヶ map to hiragana ぁ..ゖ at a fixed offset (ヷ-ヺ have no hiragana and stay).
_KATAKANA_TO_HIRAGANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}
#: Latin letters that carry a diacritic (precomposed); text without any skips the NFD round trip.
_ACCENTED_LATIN = regex.compile(r"[\u00C0-\u024F\u1E00-\u1EFF]")
#: Combining marks right after a Latin letter (kana voicing marks follow kana, so they stay).
_LATIN_MARKS = regex.compile(r"(?<=\p{Latin})\p{Mn}+")
#: Long-vowel spellings of Hepburn variants: ō, ou, oo, oh (before a consonant), ū, uu, ...
_LONG_VOWELS = regex.compile(r"(?<=o)[uo]|(?<=u)u|(?<=a)a|(?<=e)e|oh(?=[^aeiouy]|$)")


def strip_diacritics(text: str) -> str:
    """Remove combining marks from Latin letters (ō -> o, é -> e), leaving kana intact.

    Kana voicing marks (dakuten) are combining marks too after NFD, so only marks that follow a
    Latin letter are dropped.
    """
    if not _ACCENTED_LATIN.search(text):
        return text
    stripped: str = _LATIN_MARKS.sub("", unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", stripped)


@lru_cache(maxsize=200_000)
def fold_romaji_word(word: str) -> str:
    """Fold a lower-case Latin word so Hepburn long-vowel variants compare equal.

    ``eiichirou``, ``eiichiroo`` and ``eiichiro`` all become ``eiichiro``; ``ohba`` becomes ``oba``.
    English words pass through mostly unchanged, and since index and query are folded the same
    way, the only effect is that such variants match each other.
    """
    if len(word) < 3:
        return word
    folded: str = _LONG_VOWELS.sub(lambda m: "o" if m.group().startswith("oh") else "", word)
    return folded


def fold(text: str) -> str:
    """Return the search form of ``text``.

    NFKC (full-width ASCII and half-width katakana to their usual forms), case folding, Latin
    diacritics removed, katakana to hiragana, punctuation and symbols to single spaces.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = strip_diacritics(text)
    text = text.translate(_KATAKANA_TO_HIRAGANA)
    spaced: str = _SEPARATORS.sub(" ", text)
    return spaced.strip()
