"""Folding and search tokens: the variants a customer types compare equal."""

from __future__ import annotations

import pytest

from mangaassist.text.fold import fold, fold_romaji_word
from mangaassist.text.scripts import has_japanese
from mangaassist.text.tokens import prefix_tokens, search_tokens


@pytest.mark.parametrize(
    "variant",
    ["ワンピース", "ﾜﾝﾋﾟｰｽ", "わんぴーす", "ワンピース　", "【ワンピース】"],
)
def test_width_kana_and_brackets_fold_to_one_form(variant: str) -> None:
    assert fold(variant) == "わんぴーす"


@pytest.mark.parametrize(
    ("variant", "expected"),
    [("ＯＮＥ　ＰＩＥＣＥ", "one piece"), ("One Piece", "one piece"), ("SPY×FAMILY", "spy family")],
)
def test_full_width_latin_and_case_fold(variant: str, expected: str) -> None:
    assert fold(variant) == expected


@pytest.mark.parametrize("variant", ["eiichirō", "eiichirou", "eiichiroo", "EIICHIRO"])
def test_hepburn_long_vowel_spellings_compare_equal(variant: str) -> None:
    assert fold_romaji_word(fold(variant)) == "eiichiro"


def test_oh_spelling_of_long_o_folds_like_plain_o() -> None:
    assert fold_romaji_word("ohba") == fold_romaji_word("oba") == "oba"


def test_voiced_kana_keep_their_marks() -> None:
    # NFD splits が into か + dakuten; folding must not drop the mark as it does for ō.
    assert fold("ガンダム") == "がんだむ"
    assert fold("ぱぴぷ") == "ぱぴぷ"


def test_japanese_runs_become_bigrams_and_latin_runs_words() -> None:
    assert search_tokens("鬼滅の刃 Kimetsu") == ["鬼滅", "滅の", "の刃", "kimetsu"]


def test_single_japanese_character_is_its_own_token() -> None:
    assert search_tokens("刃") == ["刃"]


def test_characters_outside_the_bmp_are_kept_whole() -> None:
    assert search_tokens("𠮷野家") == ["𠮷野", "野家"]


def test_emoji_and_symbols_do_not_become_tokens() -> None:
    assert search_tokens("🍜✨ ラーメン!!") == ["らー", "ーめ", "めん"]


def test_prefix_tokens_cover_word_starts_of_three_letters_or_more() -> None:
    assert prefix_tokens(["frieren", "no", "鬼滅"]) == [
        "^fri",
        "^frie",
        "^frier",
        "^friere",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("おすすめは？", True), ("𠮷", True), ("ｶﾀｶﾅ", True), ("Frieren vol. 12", False), ("", False)],
)
def test_has_japanese(text: str, expected: bool) -> None:
    assert has_japanese(text) is expected
