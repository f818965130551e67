"""Which language a customer writes in: the sentence decides, not the title inside it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.text.language import Language, detect_language, japanese_share


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("おすすめの異世界マンガは？", "ja"),
        ("Is Frieren vol. 12 in stock?", "en"),
        ("フリーレンの12巻ありますか", "ja"),
        ("Is ワンピース in stock?", "en"),
        ("ONE PIECEの最新刊は在庫ありますか？", "ja"),
        ("こんにちは", "ja"),
        ("hello", "en"),
        ("123 !!!", "en"),
        ("👍", "en"),
        ("鬼滅", "ja"),
        ("", "en"),
        ("ﾜﾝﾋﾟｰｽ ありますか", "ja"),
        ("Do you have 葬送のフリーレン?", "en"),
        ("Frierenの12巻ありますか", "ja"),
        ("Is ONE PIECE vol 105 in stock?", "en"),
    ],
)
def test_language_of_a_message(message: str, expected: Language) -> None:
    assert detect_language(message) == expected


@pytest.mark.parametrize(
    "message",
    ["HUNTER×HUNTERの37巻ある？", "NARUTOの在庫ある？", "SPY×FAMILYの新刊いつ？", "Dr.STONEある?"],
)
def test_japanese_around_a_title_in_capitals_is_japanese(message: str) -> None:
    # Given a short Japanese question whose Latin title outnumbers its Japanese letters
    assert japanese_share(message) < 0.5
    # Then the title in capitals does not decide the language
    assert detect_language(message) == "ja"


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("Is ワンピース in stock?", 5 / 14),
        ("ONE PIECEの最新刊は在庫ありますか？", 12 / 20),
        ("こんにちは", 1.0),
        ("hello", 0.0),
        ("123 !!! 👍", 0.0),
        ("", 0.0),
        ("𠮷田々ー", 1.0),
    ],
)
def test_japanese_share_counts_japanese_among_japanese_and_latin_letters(
    text: str, share: float
) -> None:
    assert japanese_share(text) == pytest.approx(share)


JAPANESE = st.text(alphabet=st.sampled_from("あいうアイウ漫画鬼滅𠮷ーｱｲ々"), min_size=1)
ENGLISH = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ABC.,?!0123"), min_size=1)


@given(st.text())
def test_share_is_a_fraction(text: str) -> None:
    assert 0.0 <= japanese_share(text) <= 1.0


@given(JAPANESE)
def test_only_japanese_is_japanese(text: str) -> None:
    assert detect_language(text) == "ja"


@given(ENGLISH)
def test_only_ascii_is_english(text: str) -> None:
    assert detect_language(text) == "en"


@given(st.text(), JAPANESE)
def test_more_japanese_never_turns_japanese_into_english(text: str, more: str) -> None:
    if detect_language(text) == "ja":
        assert detect_language(text + more) == "ja"


@given(st.text(), st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz "), min_size=1))
def test_more_english_never_turns_english_into_japanese(text: str, more: str) -> None:
    if detect_language(text) == "en":
        assert detect_language(text + more) == "en"


@pytest.mark.parametrize("text", ["？", "。。。", "！！"])
def test_full_width_punctuation_alone_means_japanese(text: str) -> None:
    assert detect_language(text) == "ja"
