"""Client frames of the WebSocket protocol: strict parsing with stable error codes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.stream.protocol import ProtocolError, Resume, SendMessage, parse_frame


def test_send_message_with_camel_case_fields() -> None:
    action, data = parse_frame(
        '{"action": "sendMessage", "data": {"message": "こんにちは", "clientMessageId": "c1"}}'
    )
    assert action == "sendMessage"
    assert isinstance(data, SendMessage)
    assert (data.message, data.client_message_id) == ("こんにちは", "c1")


def test_resume_defaults_to_the_start() -> None:
    _, data = parse_frame('{"action": "resume", "data": {"messageId": "abcdef0123"}}')
    assert isinstance(data, Resume)
    assert data.after_seq == 0


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "MALFORMED_FRAME"),
        ("{", "MALFORMED_FRAME"),
        ('"ping"', "MALFORMED_FRAME"),
        ('{"data": {}}', "MALFORMED_FRAME"),
        ('{"action": 1}', "MALFORMED_FRAME"),
        ('{"action": "ping", "data": []}', "MALFORMED_FRAME"),
        ('{"action": "ping", "extra": 1}', "MALFORMED_FRAME"),
        ('{"action": "dance"}', "UNKNOWN_ACTION"),
        ('{"action": "sendMessage", "data": {}}', "VALIDATION_ERROR"),
        ('{"action": "sendMessage", "data": {"message": "x", "colour": 1}}', "VALIDATION_ERROR"),
        ('{"action": "cancel", "data": {"messageId": "bad id"}}', "VALIDATION_ERROR"),
    ],
)
def test_bad_frames_raise_stable_codes(raw: str, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_frame(raw)
    assert caught.value.code == code


@given(st.text(max_size=200))
def test_any_text_parses_or_raises_a_protocol_error(raw: str) -> None:
    code = None
    try:
        parse_frame(raw)
    except ProtocolError as exc:
        code = exc.code
    assert code in {None, "MALFORMED_FRAME", "UNKNOWN_ACTION", "VALIDATION_ERROR"}
