"""Token estimates err high, so a budget checked with them never sends an oversized request."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.text.token_estimate import (
    MESSAGE_OVERHEAD_TOKENS,
    estimate_messages_tokens,
    estimate_tokens,
)

ENGLISH = (
    "Hi! I'm looking for a fantasy manga similar to Frieren, ideally a finished series of "
    "fewer than fifteen volumes. Could you also tell me whether volume 12 is in stock and "
    "when the next volume ships?"
)


def test_empty_text_costs_nothing_and_any_character_costs_something() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens(" ") == 1
    assert estimate_tokens("a") == 1


@pytest.mark.parametrize(
    "text",
    ["こんにちは", "おすすめの異世界マンガは？", "𠮷田さんのマンガ", "ﾜﾝﾋﾟｰｽ", "鬼滅の刃　２３巻"],
)
def test_japanese_costs_at_least_a_token_per_character(text: str) -> None:
    assert estimate_tokens(text) >= len(text)


def test_japanese_is_not_underestimated_like_the_old_ratio() -> None:
    # The old rule of 1.5 characters per token would have allowed 667 tokens here.
    assert estimate_tokens("漫" * 1000) >= 1000


def test_english_is_close_to_four_characters_per_token() -> None:
    assert len(ENGLISH) / 4 <= estimate_tokens(ENGLISH) <= len(ENGLISH) / 3


@pytest.mark.parametrize(
    ("text", "at_least"),
    [("🎉", 2), ("🎉🎉🎉", 6), ("👨\u200d👩\u200d👧\u200d👦", 7), ("🇯🇵", 2), ("ПРИВЕТ", 6)],
)
def test_emoji_and_other_scripts_cost_more_than_latin(text: str, at_least: int) -> None:
    assert estimate_tokens(text) >= at_least


def test_a_conversation_adds_an_overhead_per_message() -> None:
    conversation = [
        ("user", "ワンピースの最新刊は？"),
        ("assistant", "110巻です。"),
        ("user", "thanks"),
    ]

    total = estimate_messages_tokens(conversation)

    assert total == sum(estimate_tokens(text) for _, text in conversation) + 3 * 4
    assert MESSAGE_OVERHEAD_TOKENS == 4
    assert estimate_messages_tokens([]) == 0
    assert estimate_messages_tokens([("user", "")]) == MESSAGE_OVERHEAD_TOKENS


ANY_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(), st.sampled_from([" ", "\n", "a", "Z", "7", "あ", "漫", "🎉", "\u200d"])
    )
)


@given(ANY_TEXT, ANY_TEXT)
def test_appending_text_never_lowers_the_estimate(first: str, second: str) -> None:
    joined = estimate_tokens(first + second)

    assert joined >= max(estimate_tokens(first), estimate_tokens(second))
    assert joined <= estimate_tokens(first) + estimate_tokens(second) + 1


@given(ANY_TEXT)
def test_never_below_a_token_per_four_bytes(text: str) -> None:
    assert estimate_tokens(text) >= math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4)
    assert (estimate_tokens(text) == 0) == (text == "")


@given(st.text(alphabet=st.sampled_from("あいうアイウ漫画鬼滅𠮷ー々、。「」ｱ"), min_size=1))
def test_japanese_text_of_n_characters_is_at_least_n_tokens(text: str) -> None:
    assert estimate_tokens(text) >= len(text)


@given(st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1), min_size=1))
def test_english_words_cost_a_quarter_to_a_half_of_their_length(words: list[str]) -> None:
    # One-letter words are a token each, so the upper bound needs one token of slack.
    text = " ".join(words)

    assert len(text) / 4 <= estimate_tokens(text) <= len(text) / 2 + 1


@given(st.lists(st.tuples(st.sampled_from(["user", "assistant"]), ANY_TEXT)))
def test_a_conversation_costs_at_least_its_text_in_one_piece(
    messages: list[tuple[str, str]],
) -> None:
    total = estimate_messages_tokens(messages)

    assert total >= estimate_tokens("".join(text for _, text in messages))
    assert total >= MESSAGE_OVERHEAD_TOKENS * len(messages)


def test_text_with_lone_surrogates_is_still_estimated() -> None:
    assert estimate_tokens("\ud800abc") >= 2
