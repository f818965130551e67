"""Server-sent events, as the HTML standard parses them (OpenAI-compatible streams use them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SseDecoder", "SseEvent", "parse_sse_lines"]


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One server-sent event: its data lines joined by newlines, and its type."""

    data: str
    event: str = "message"


class SseDecoder:
    """Server-sent events from a body's lines, as the HTML standard parses them.

    Comments (``: keep-alive``) and ``id``/``retry`` fields are skipped, one space after the
    colon is optional, line endings may be LF, CRLF or CR, and an event is complete at its
    blank line.
    """

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event = ""

    def feed(self, line: str) -> SseEvent | None:
        """Take one line (with or without its ending); the event it completes, if any."""
        line = line.rstrip("\r\n")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def flush(self) -> SseEvent | None:
        """The event under way, if it has data (at a blank line or at the end of the body)."""
        data, event = self._data, self._event or "message"
        self._data, self._event = [], ""
        return SseEvent("\n".join(data), event) if data else None


def parse_sse_lines(lines: Iterable[str]) -> list[SseEvent]:
    """Every event of a body's ``lines``, a last one without its blank line included."""
    decoder = SseDecoder()
    events = [event for line in lines if (event := decoder.feed(line)) is not None]
    last = decoder.flush()
    return [*events, last] if last is not None else events
