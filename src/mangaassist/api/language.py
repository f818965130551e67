"""Which language a response speaks: the request's preference, else its text, else English."""

from __future__ import annotations

from typing import Any

from mangaassist.api.messages import Language
from mangaassist.text.scripts import has_japanese

__all__ = ["accepts_japanese", "response_language"]


def accepts_japanese(accept_language: str | None) -> bool:
    """True when Japanese is the client's most preferred language in ``Accept-Language``."""
    if not accept_language:
        return False
    best, best_q = "", -1.0
    for item in accept_language.split(","):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if quality > best_q:
            best, best_q = tag.strip().lower(), quality
    return best == "ja" or best.startswith("ja-")


def _body_text(body: Any) -> str:
    if isinstance(body, dict):
        return " ".join(_body_text(v) for v in body.values())
    if isinstance(body, list):
        return " ".join(_body_text(v) for v in body)
    return body if isinstance(body, str) else ""


def response_language(accept_language: str | None, body: Any = None) -> Language:
    """``preferredLanguage`` in the body wins, then ``Accept-Language``, then Japanese text."""
    if isinstance(body, dict) and body.get("preferredLanguage") in ("ja", "en"):
        preferred: Language = body["preferredLanguage"]
        return preferred
    if accepts_japanese(accept_language) or has_japanese(_body_text(body)):
        return "ja"
    return "en"
