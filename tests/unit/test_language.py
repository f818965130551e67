"""Which language an error message speaks."""

from __future__ import annotations

import pytest

from mangaassist.api.language import accepts_japanese, response_language
from mangaassist.api.messages import field_message, message


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ja", True),
        ("ja-JP,ja;q=0.9,en;q=0.8", True),
        ("en-US,en;q=0.9,ja;q=0.8", False),
        ("en;q=0.5, ja;q=0.9", True),
        ("fr", False),
        ("", False),
        (None, False),
        ("ja;q=abc, en", False),
    ],
)
def test_accept_language(header: str | None, expected: bool) -> None:
    assert accepts_japanese(header) is expected


def test_preferred_language_in_body_wins() -> None:
    assert response_language("ja", {"preferredLanguage": "en", "message": "在庫は？"}) == "en"
    assert response_language("en", {"preferredLanguage": "ja"}) == "ja"


def test_japanese_text_in_body_means_japanese() -> None:
    assert response_language(None, {"query": "鬼滅の刃"}) == "ja"
    assert response_language(None, {"query": "demon slayer"}) == "en"
    assert response_language(None, "not an object") == "en"


def test_messages_are_localized_and_filled() -> None:
    assert "65536" in message("PAYLOAD_TOO_LARGE", "en", limit=65536)
    assert "上限は65536バイト" in message("PAYLOAD_TOO_LARGE", "ja", limit=65536)


def test_field_messages() -> None:
    ja = field_message("string_too_short", "too short", "ja", {"min_length": 1})
    assert ja == "1文字以上で入力してください。"
    assert field_message("string_too_short", "too short", "en", {"min_length": 1}) == "too short"
    assert field_message("unheard_of", "odd", "ja", {}) == "odd"


def test_every_message_formats_in_both_languages() -> None:
    import string

    from mangaassist.api.messages import _MESSAGES

    for code, texts in _MESSAGES.items():
        names = {f for text in texts for _, f, _, _ in string.Formatter().parse(text) if f}
        params = dict.fromkeys(names, 1)
        for language in ("en", "ja"):
            assert message(code, language, **params), code
