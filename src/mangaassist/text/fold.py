"""Folding of text for search: width, case, kana and romanization variants compare equal.

A customer may type ワンピース, ﾜﾝﾋﾟｰｽ, わんぴーす or ＯＮＥ ＰＩＥＣＥ for the same series, and
"Oda Eiichirō", "oda eiichirou" or "ODA EIICHIRO" for the same author. Folding maps every such
variant to one form, applied identically to the index and to the query.
"""

from __future__ import annotations

import unicodedata

import jaconv
import regex

__all__ = ["fold", "fold_romaji_word", "strip_diacritics"]

#: Punctuation and symbols that separate words; CJK brackets and the middle dot included.
_SEPARATORS = regex.compile(r"[\p{P}\p{S}\p{Z}\s]+")
#: Long-vowel spellings of Hepburn variants: ō, ou, oo, oh (before a consonant), ū, uu, ...
_LONG_VOWELS = regex.compile(r"(?<=o)[uo]|(?<=u)u|(?<=a)a|(?<=e)e|oh(?=[^aeiouy]|$)")


def strip_diacritics(text: str) -> str:
    """Remove combining marks from Latin letters (ō -> o, é -> e), leaving kana intact.

    Kana voicing marks (dakuten) are combining marks too after NFD, so only marks that follow a
    Latin letter are dropped.
    """
    decomposed = unicodedata.normalize("NFD", text)
    out: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) and out and out[-1].isascii():
            continue
        out.append(char)
    return unicodedata.normalize("NFC", "".join(out))


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
    text = jaconv.kata2hira(text)
    spaced: str = _SEPARATORS.sub(" ", text)
    return spaced.strip()
