"""Validation of chat messages: real Japanese messages pass, invisible tricks are cleaned."""

from __future__ import annotations

import unicodedata

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.text.validate import (
    MessageRejected,
    ValidatedMessage,
    count_graphemes,
    validate_message,
)

FAMILY = "👨\u200d👩\u200d👧\u200d👦"
RAINBOW_FLAG = "🏳\ufe0f\u200d🌈"
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
REMOVED = (
    "\u200b\u200c\u2060\ufeff\u00ad\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2069\u061c"
)


@pytest.mark.parametrize(
    ("message", "text", "graphemes"),
    [
        pytest.param("あ" * 4000, "あ" * 4000, 4000, id="4000-hiragana-at-limit"),
        pytest.param("🎉" * 4000, "🎉" * 4000, 4000, id="4000-emoji-at-limit"),
        pytest.param("𠮷田さんのマンガ", "𠮷田さんのマンガ", 8, id="supplementary-kanji"),
        pytest.param(FAMILY, FAMILY, 1, id="family-zwj-emoji-is-one"),
        pytest.param("e\u0301", "é", 1, id="combining-accent-composed"),
        pytest.param("か\u3099", "が", 1, id="combining-dakuten-composed"),
        pytest.param("ﾜﾝﾋﾟｰｽ", "ﾜﾝﾋﾟｰｽ", 5, id="half-width-kana-kept-half-width"),
        pytest.param("🇯🇵", "🇯🇵", 1, id="flag"),
        pytest.param("👍🏽", "👍🏽", 1, id="skin-tone"),
        pytest.param("1\ufe0f\u20e3", "1\ufe0f\u20e3", 1, id="keycap"),
        pytest.param("新刊マンガ🎉おすすめ!", "新刊マンガ🎉おすすめ!", 11, id="design-doc-emoji"),
        pytest.param(RAINBOW_FLAG, RAINBOW_FLAG, 1, id="zwj-after-variation-selector"),
        pytest.param("👩🏽\u200d💻", "👩🏽\u200d💻", 1, id="zwj-after-skin-tone"),
        pytest.param(SCOTLAND, SCOTLAND, 1, id="emoji-tag-sequence"),
        pytest.param(
            "葛\U000e0100飾区", "葛\U000e0100飾区", 3, id="ideographic-variation-selector"
        ),
        pytest.param("☺\ufe0e", "☺\ufe0e", 1, id="text-presentation-selector"),
        pytest.param("(´・ω・`)ﾉ", "(´・ω・`)ﾉ", 8, id="kaomoji"),
    ],
)
def test_real_messages_are_accepted_as_typed(message: str, text: str, graphemes: int) -> None:
    result = validate_message(message)

    assert result == ValidatedMessage(text=text, graphemes=graphemes, warnings=())


@pytest.mark.parametrize(
    ("message", "code", "params"),
    [
        pytest.param(
            "あ" * 4001, "MESSAGE_TOO_LONG", {"max": 4000, "length": 4001}, id="4001-kana"
        ),
        pytest.param(
            "🎉" * 4001, "MESSAGE_TOO_LONG", {"max": 4000, "length": 4001}, id="4001-emoji"
        ),
        pytest.param(
            "A" * 4001, "MESSAGE_TOO_LONG", {"max": 4000, "length": 4001}, id="4001-ascii"
        ),
        pytest.param(FAMILY * 1300, "MESSAGE_TOO_LARGE", {"max_bytes": 32_000}, id="32500-bytes"),
        pytest.param("x" * 200_000, "MESSAGE_TOO_LARGE", {"max_bytes": 32_000}, id="huge-body"),
        pytest.param("こんにちは\ud800", "INVALID_UNICODE", {}, id="lone-high-surrogate"),
        pytest.param("\udfff", "INVALID_UNICODE", {}, id="lone-low-surrogate"),
        pytest.param("\ud83c\udf89", "INVALID_UNICODE", {}, id="unpaired-surrogate-pair"),
        pytest.param("", "EMPTY_MESSAGE", {}, id="empty"),
        pytest.param(" \t\r\n ", "EMPTY_MESSAGE", {}, id="ascii-whitespace"),
        pytest.param("\u3000\u3000", "EMPTY_MESSAGE", {}, id="ideographic-space"),
        pytest.param("\u200b\ufeff\u200d", "EMPTY_MESSAGE", {}, id="only-invisible"),
        pytest.param("在庫\x00ある？", "CONTROL_CHARACTERS", {"count": 1}, id="nul"),
        pytest.param("\x1b[31m赤\x1b[0m", "CONTROL_CHARACTERS", {"count": 2}, id="ansi-escape"),
        pytest.param("abc\x7f", "CONTROL_CHARACTERS", {"count": 1}, id="delete"),
        pytest.param("abc\x85def", "CONTROL_CHARACTERS", {"count": 1}, id="c1-next-line"),
        pytest.param("\x0b\x0c", "CONTROL_CHARACTERS", {"count": 2}, id="vertical-tab-form-feed"),
    ],
)
def test_invalid_messages_are_rejected_with_a_code(
    message: str, code: str, params: dict[str, object]
) -> None:
    with pytest.raises(MessageRejected) as rejected:
        validate_message(message)

    assert rejected.value.code == code
    assert rejected.value.params == params
    assert code in str(rejected.value)


def test_rejection_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="MESSAGE_TOO_LONG"):
        validate_message("abc", max_graphemes=2)


def test_limits_can_be_configured() -> None:
    assert validate_message("ab", max_graphemes=2).graphemes == 2
    with pytest.raises(MessageRejected) as too_large:
        validate_message("ああ", max_bytes=5)
    assert too_large.value.params == {"max_bytes": 5}


def test_length_counts_what_the_customer_sees_not_code_units() -> None:
    # 4000 family emoji are 28000 code points but 4000 characters: the byte limit decides.
    with pytest.raises(MessageRejected) as rejected:
        validate_message(FAMILY * 4000)
    assert rejected.value.code == "MESSAGE_TOO_LARGE"
    assert validate_message(FAMILY * 1000).graphemes == 1000


@pytest.mark.parametrize(
    ("message", "text"),
    [
        pytest.param("ワン\u200bピース", "ワンピース", id="zero-width-space-splitting-a-title"),
        pytest.param("\ufeff在庫ありますか", "在庫ありますか", id="bom"),
        pytest.param("one\u00adpiece", "onepiece", id="soft-hyphen"),
        pytest.param("price \u202e001\u202c yen", "price 001 yen", id="bidi-override"),
        pytest.param("\u2066abc\u2069", "abc", id="bidi-isolate"),
        pytest.param("ab\u200dcd", "abcd", id="zwj-between-letters"),
        pytest.param("👨\u200d", "👨", id="zwj-at-end"),
        pytest.param("\u200d👩", "👩", id="zwj-at-start"),
        pytest.param("👨\u200d\u200d👩", "👨👩", id="doubled-zwj"),
        pytest.param("hi\U000e0069\U000e0067\U000e006e\U000e006f", "hi", id="ascii-smuggling-tags"),
        pytest.param("🏴\U000e0061\U000e0062", "🏴", id="tags-without-cancel"),
        pytest.param("e\u200b\u0301", "é", id="removal-then-composition"),
        pytest.param(REMOVED.join("漫画"), "漫画", id="every-removed-kind"),
    ],
)
def test_invisible_characters_are_removed_with_a_warning(message: str, text: str) -> None:
    result = validate_message(message)

    assert result.text == text
    assert result.warnings == ("INVISIBLE_CHARACTERS_REMOVED",)


def test_line_breaks_inside_are_kept_and_ends_are_stripped() -> None:
    result = validate_message("\u3000 \n鬼滅の刃\r\n23巻\u2028ありますか？\n\t ")

    assert result.text == "鬼滅の刃\r\n23巻\u2028ありますか？"
    assert result.graphemes == 15


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("ワンピースの在庫 Привет", id="cyrillic-word"),
        pytest.param("مرحبا 在庫ありますか", id="arabic-word"),
        pytest.param("Ελληνικά のマンガ", id="greek-word"),
    ],
)
def test_japanese_with_another_script_gets_a_warning(message: str) -> None:
    assert validate_message(message).warnings == ("MIXED_SCRIPT",)


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("ONE PIECEの最新刊", id="latin-title"),
        pytest.param("(ノ°Д°）ノ 在庫切れ", id="kaomoji-with-cyrillic-letter"),
        pytest.param("(´；ω；`) 売り切れ", id="kaomoji-with-greek-letter"),
        pytest.param("Привет, do you ship to Russia?", id="no-japanese"),
        pytest.param("나 혼자만 레벨업 の原作", id="korean-title"),
    ],
)
def test_ordinary_mixes_get_no_script_warning(message: str) -> None:
    assert validate_message(message).warnings == ()


def test_warnings_keep_their_order_without_duplicates() -> None:
    result = validate_message("\u200bПривет\u200b ワンピース Привет")

    assert result.warnings == ("INVISIBLE_CHARACTERS_REMOVED", "MIXED_SCRIPT")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("", 0), ("abc", 3), ("𠮷", 1), (FAMILY, 1), ("🇯🇵🇯🇵", 2), ("ﾋﾟ", 1), ("\r\n", 1)],
)
def test_count_graphemes(text: str, expected: int) -> None:
    assert count_graphemes(text) == expected


TRICKY = [
    *REMOVED,
    "\u200d", "\ufe0f", "\ufe0e", "\U000e0100", "\U000e0067", "\U000e007f", "🏴", "👨", "🏽",
    "🇯", "\u0301", "\u3099", "e", "か", "ﾋ", "ﾟ", "𠮷", " ", "\u3000", "\n", "\r", "\t", "\x00",
    "\x85", "\u2028", "Д", "Ж", "あ",
]  # fmt: skip
MESSAGES = st.text(
    alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(codec="utf-8")), max_size=40
)
_CONTROL = regex.compile(r"[^\P{Cc}\t\n\r]")


@given(MESSAGES)
def test_accepted_text_is_clean_and_validating_it_again_changes_nothing(message: str) -> None:
    try:
        result = validate_message(message)
    except MessageRejected:
        return

    assert not _CONTROL.search(result.text)
    assert not any(char in result.text for char in REMOVED)
    assert unicodedata.is_normalized("NFC", result.text)
    assert result.text == result.text.strip() != ""
    assert result.graphemes == count_graphemes(result.text) <= len(result.text)
    again = validate_message(result.text)
    assert again.text == result.text
    assert "INVISIBLE_CHARACTERS_REMOVED" not in again.warnings


@given(MESSAGES)
def test_a_message_is_either_accepted_or_rejected_with_a_known_code(message: str) -> None:
    code: str
    try:
        validate_message(message)
    except MessageRejected as rejected:
        code = rejected.code
    else:
        code = "ACCEPTED"
    assert code in {"ACCEPTED", "CONTROL_CHARACTERS", "EMPTY_MESSAGE"}


@given(MESSAGES, st.characters(categories=["Cs"]), MESSAGES)
def test_any_lone_surrogate_is_invalid_unicode(before: str, surrogate: str, after: str) -> None:
    with pytest.raises(MessageRejected) as rejected:
        validate_message(before + surrogate + after)
    assert rejected.value.code == "INVALID_UNICODE"


@given(st.text(alphabet=st.characters(categories=["Lo"], codec="utf-8"), min_size=1))
def test_graphemes_never_exceed_code_points(text: str) -> None:
    assert 1 <= count_graphemes(text) <= len(text)


@given(st.text(alphabet=st.sampled_from("あいうアイウ漫画鬼滅𠮷ー々"), min_size=1, max_size=200))
def test_japanese_text_is_accepted_unchanged(text: str) -> None:
    assert validate_message(text) == ValidatedMessage(text=text, graphemes=len(text), warnings=())
