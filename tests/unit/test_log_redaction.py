"""Credentials never reach a log line, whichever library writes it."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from mangaassist.observability.logging import configure_logging
from mangaassist.observability.redaction import redact

KEY = "mk_live_abcd2345_" + "S3cr3t-Secret_" * 3


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (f'127.0.0.1:5 - "WebSocket /v1/ws?apiKey={KEY}&clientType=mobile" 403', "clientType"),
        ("< GET /v1/ws?token=eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl HTTP/1.1", "HTTP/1.1"),
        ("/v1/ws?clientType=mobile&access_token=abc.def.ghi#frag", "#frag"),
        (f"a key pasted into a message: {KEY}", "mk_live_abcd2345_"),
    ],
)
def test_credentials_are_redacted_and_the_rest_kept(line: str, kept: str) -> None:
    cleaned = redact(line)
    assert "S3cr3t" not in cleaned
    assert "eyJ" not in cleaned
    assert "abc.def" not in cleaned
    assert "[redacted]" in cleaned
    assert kept in cleaned


def test_uvicorn_and_structlog_lines_are_redacted_in_the_output(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    uvicorn_log = logging.getLogger("uvicorn.error")
    # Another test's uvicorn.Config(log_level="warning") may have raised this logger's level.
    monkeypatch.setattr(uvicorn_log, "level", logging.NOTSET)
    monkeypatch.setattr(uvicorn_log, "disabled", False)
    configure_logging("debug", "json")
    try:
        uvicorn_log.info(
            '%s - "WebSocket %s" %s', "127.0.0.1:5", f"/v1/ws?apiKey={KEY}", "[accepted]"
        )
        structlog.get_logger("mangaassist.test").info("pasted", text=f"my key is {KEY}")
    finally:
        root.handlers[:], root.level = handlers, level
    lines = {line["logger"]: line for line in map(json.loads, stream.getvalue().splitlines())}
    assert "S3cr3t" not in stream.getvalue()
    handshake = lines["uvicorn.error"]["event"]
    assert handshake.endswith('"WebSocket /v1/ws?apiKey=[redacted]" [accepted]')
    assert lines["mangaassist.test"]["text"] == "my key is mk_live_abcd2345_[redacted]"
